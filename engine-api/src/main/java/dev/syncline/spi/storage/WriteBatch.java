package dev.syncline.spi.storage;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Everything one commit writes, applied atomically: nothing of it is visible before the commit, all
 * of it after.
 *
 * @param ops operations to append, in order; storage assigns increasing op ids
 * @param upserts source rows whose state is replaced
 * @param deletes source rows whose state is removed
 * @param parameterChanges parameter-index replacements
 * @param position the source position this batch covers (order-preserving string); with null, no
 *     checkpoint is created (a partial batch of a large transaction)
 * @param newRows keys of {@code upserts} the engine believes storage holds no state for (rows of an
 *     initial copy): a hint that lets storage skip removing a previous state. Storage must stay
 *     correct when it is wrong.
 */
public record WriteBatch(
    List<NewOp> ops,
    List<CurrentRow> upserts,
    List<SourceKey> deletes,
    List<ParameterChange> parameterChanges,
    @Nullable String position,
    Set<SourceKey> newRows) {
  /** Copies the lists. */
  public WriteBatch {
    ops = List.copyOf(ops);
    upserts = List.copyOf(upserts);
    deletes = List.copyOf(deletes);
    parameterChanges = List.copyOf(parameterChanges);
    newRows = Set.copyOf(newRows);
  }

  /** A batch without the new-rows hint. */
  public WriteBatch(
      List<NewOp> ops,
      List<CurrentRow> upserts,
      List<SourceKey> deletes,
      List<ParameterChange> parameterChanges,
      @Nullable String position) {
    this(ops, upserts, deletes, parameterChanges, position, Set.of());
  }

  /** A batch that only advances the position (a keepalive). */
  public static WriteBatch keepalive(String position) {
    return new WriteBatch(
        List.of(), List.of(), List.of(), List.of(), Objects.requireNonNull(position));
  }
}
