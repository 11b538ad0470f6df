package dev.syncline.spi.source;

import dev.syncline.api.rules.TablePattern;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A source database. <em>Incubating.</em> The engine calls {@link #run} on a thread it owns and names; the adapter
 * pushes the initial snapshot (if {@code resumeFrom} is null) and then committed changes into the sink until
 * {@link #close()} is called or it fails.
 */
public interface SourceAdapter extends AutoCloseable {
  /**
   * Replicates {@code tables} into {@code sink}, starting after {@code resumeFrom} (or with a snapshot when null).
   * Blocks until closed; throws on unrecoverable failure.
   */
  void run(List<TablePattern> tables, @Nullable SourcePosition resumeFrom, ChangeSink sink) throws Exception;

  /** Parses a position this adapter serialized earlier. */
  SourcePosition parsePosition(String serialized);

  /** Stops replication; idempotent, callable from any thread. */
  @Override
  void close();
}
