package dev.syncline.core.storage;

import dev.syncline.api.OpId;
import dev.syncline.core.internal.storage.Compactor;
import dev.syncline.spi.storage.OpRecord;
import java.util.ArrayList;
import java.util.List;
import org.jooq.Record;

/**
 * Compacts a version's op log up to an op id ({@link Compactor}): per bucket, in one transaction,
 * the ops are replaced by their compacted form, packs across the limit split. Any thread.
 */
final class JdbcCompactor extends JdbcStoragePart {
  private final JdbcOpLogReader reader;

  JdbcCompactor(JdbcStoragePart tables, JdbcOpLogReader reader) {
    super(tables);
    this.reader = reader;
  }

  public void compact(long versionId, OpId upTo) {
    List<String> names =
        read(
            dsl ->
                dsl.selectDistinct(BUCKET)
                    .from(bucketData)
                    .where(VERSION.eq(versionId))
                    .fetch(BUCKET));
    for (String bucket : names) {
      transaction(
          dsl -> {
            List<OpRecord> ops =
                reader.opRecords(
                    dsl, versionId, bucket, Long.MIN_VALUE, upTo.value(), Integer.MAX_VALUE, true);
            List<OpRecord> compacted = Compactor.compact(ops, upTo);
            if (compacted.equals(ops)) {
              return null;
            }
            dsl.deleteFrom(bucketData)
                .where(VERSION.eq(versionId).and(BUCKET.eq(bucket)).and(OP_ID.le(upTo.value())))
                .execute();
            // A pack across upTo: its ops up to there are among those compacted, the rest become
            // rows of their own.
            Record straddling = reader.straddling(dsl, versionId, bucket, upTo.value(), true);
            if (straddling != null) {
              List<OpRecord> rest = new ArrayList<>();
              JdbcOpLogReader.addOps(
                  rest, bucket, straddling, upTo.value(), Long.MAX_VALUE, Integer.MAX_VALUE);
              dsl.deleteFrom(bucketData)
                  .where(
                      VERSION
                          .eq(versionId)
                          .and(BUCKET.eq(bucket))
                          .and(OP_ID.eq(straddling.get(OP_ID))))
                  .execute();
              insertRecords(dsl, versionId, bucket, rest);
            }
            insertRecords(dsl, versionId, bucket, compacted);
            return null;
          });
    }
  }
}
