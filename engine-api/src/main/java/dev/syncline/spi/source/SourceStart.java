package dev.syncline.spi.source;

import dev.syncline.api.TableRef;
import dev.syncline.api.rules.TablePattern;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link SourceAdapter} needs to start or resume replicating one rules version.
 *
 * @param versionId the rules version (a source keeps one replication stream, e.g. a Postgres slot,
 *     per version)
 * @param tables the tables the rules read
 * @param resumeFrom the position of the last visible checkpoint, or null when none was committed
 *     yet
 * @param snapshotDone tables whose initial snapshot is complete
 * @param snapshotProgress cursors of tables whose initial snapshot was interrupted
 */
public record SourceStart(
    long versionId,
    List<TablePattern> tables,
    @Nullable SourcePosition resumeFrom,
    Set<TableRef> snapshotDone,
    Map<TableRef, String> snapshotProgress) {
  /** Copies the collections. */
  public SourceStart {
    tables = List.copyOf(tables);
    snapshotDone = Set.copyOf(snapshotDone);
    snapshotProgress = Map.copyOf(snapshotProgress);
    Objects.requireNonNull(tables);
  }
}
