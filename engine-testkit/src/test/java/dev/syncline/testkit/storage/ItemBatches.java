package dev.syncline.testkit.storage;

import dev.syncline.api.OpType;
import dev.syncline.api.TableRef;
import dev.syncline.spi.storage.CurrentRow;
import dev.syncline.spi.storage.NewOp;
import dev.syncline.spi.storage.Placement;
import dev.syncline.spi.storage.SourceKey;
import dev.syncline.spi.storage.WriteBatch;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;

/**
 * Write batches of rows of one table, {@code items}, in one bucket, {@code global[]}, for the JDBC
 * storage tests.
 */
final class ItemBatches {
  static final TableRef ITEMS = TableRef.of("public", "items");

  private ItemBatches() {}

  /**
   * PUTs of rows [from, to) with their state; {@code checksum} marks the generation, {@code
   * claimNew} declares every row new to storage.
   */
  static WriteBatch puts(
      int from, int to, long checksum, @Nullable String position, boolean claimNew) {
    List<NewOp> ops =
        IntStream.range(from, to)
            .mapToObj(
                i ->
                    new NewOp(
                        "global[]",
                        OpType.PUT,
                        "items",
                        Integer.toString(i),
                        "s" + i,
                        "{\"id\":" + i + "}",
                        checksum))
            .toList();
    List<CurrentRow> rows =
        IntStream.range(from, to)
            .mapToObj(
                i ->
                    new CurrentRow(
                        new SourceKey(ITEMS, "[" + i + "]"),
                        null,
                        List.of(new Placement("global[]", "items", Integer.toString(i), checksum)),
                        List.of()))
            .toList();
    Set<SourceKey> fresh = claimNew ? Set.copyOf(keys(from, to)) : Set.of();
    return new WriteBatch(ops, rows, List.of(), List.of(), position, fresh);
  }

  /** The keys of rows [from, to). */
  static List<SourceKey> keys(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> new SourceKey(ITEMS, "[" + i + "]")).toList();
  }
}
