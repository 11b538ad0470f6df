package dev.syncline.core.storage;

import static org.jooq.impl.DSL.name;

import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.WriteCheckpointKey;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.Row2;
import org.jooq.Table;
import org.jooq.impl.DSL;
import org.jspecify.annotations.Nullable;

/**
 * Write checkpoints: a client's request, by user and client id, for the checkpoint that will hold
 * its own writes; created, looked up against a checkpoint, and pruned once older than every
 * version's position. Any thread.
 */
final class JdbcWriteCheckpoints extends JdbcStoragePart {

  JdbcWriteCheckpoints(JdbcStoragePart tables) {
    super(tables);
  }

  public long createWriteCheckpoint(WriteCheckpointKey key, String position) {
    return transaction(
        dsl -> {
          lockWriteCheckpoints(dsl, key);
          Long max = maxCheckpointId(dsl, key);
          long id = max == null ? 1 : InMemoryBucketStorage.nextWriteCheckpoint(max);
          dsl.insertInto(clientCheckpoints, USER_ID, CLIENT_ID, CHECKPOINT_ID, POSITION)
              .values(key.userId(), key.clientId(), id, position)
              .execute();
          return id;
        });
  }

  public long requestWriteCheckpoint(WriteCheckpointKey key, long requestedId, String position) {
    WriteCheckpointKey.checkRequestedId(requestedId);
    return transaction(
        dsl -> {
          lockWriteCheckpoints(dsl, key);
          Long max = maxCheckpointId(dsl, key);
          if (max != null && max >= requestedId) {
            return max;
          }
          dsl.insertInto(clientCheckpoints, USER_ID, CLIENT_ID, CHECKPOINT_ID, POSITION)
              .values(key.userId(), key.clientId(), requestedId, position)
              .execute();
          return requestedId;
        });
  }

  private static Condition is(WriteCheckpointKey key) {
    return USER_ID.eq(key.userId()).and(CLIENT_ID.eq(key.clientId()));
  }

  /** The key's newest write checkpoint id, or null when it has none. */
  private @Nullable Long maxCheckpointId(DSLContext dsl, WriteCheckpointKey key) {
    return dsl.select(DSL.max(CHECKPOINT_ID))
        .from(clientCheckpoints)
        .where(is(key))
        .fetchOne(0, Long.class);
  }

  /** Serializes concurrent write-checkpoint creation for one key (across engine instances). */
  private void lockWriteCheckpoints(DSLContext dsl, WriteCheckpointKey key) {
    // A hash of both parts, the same in every JVM; two keys sharing one only wait for each other.
    int hash = 31 * key.userId().hashCode() + key.clientId().hashCode();
    db.lockForTransaction(
        dsl,
        lockNamespace() + 1,
        hash,
        () -> dsl.select(CHECKPOINT_ID).from(clientCheckpoints).where(is(key)).forUpdate().fetch());
  }

  public Optional<Long> writeCheckpoint(WriteCheckpointKey key, Checkpoint checkpoint) {
    return read(
        dsl ->
            Optional.ofNullable(
                dsl.select(DSL.max(CHECKPOINT_ID))
                    .from(clientCheckpoints)
                    .where(is(key).and(POSITION.le(checkpoint.position())))
                    .fetchOne(0, Long.class)));
  }

  public Map<WriteCheckpointKey, Long> writeCheckpoints(
      Collection<WriteCheckpointKey> keys, Checkpoint checkpoint) {
    List<WriteCheckpointKey> all = List.copyOf(new LinkedHashSet<>(keys));
    Map<WriteCheckpointKey, Long> out = new HashMap<>();
    read(
        dsl -> {
          for (int i = 0; i < all.size(); i += INSERT_CHUNK) {
            List<Row2<String, String>> chunk =
                all.subList(i, Math.min(all.size(), i + INSERT_CHUNK)).stream()
                    .map(k -> DSL.row(k.userId(), k.clientId()))
                    .toList();
            dsl.select(USER_ID, CLIENT_ID, DSL.max(CHECKPOINT_ID))
                .from(clientCheckpoints)
                .where(
                    DSL.row(USER_ID, CLIENT_ID).in(chunk).and(POSITION.le(checkpoint.position())))
                .groupBy(USER_ID, CLIENT_ID)
                .forEach(r -> out.put(new WriteCheckpointKey(r.value1(), r.value2()), r.value3()));
          }
          return null;
        });
    return out;
  }

  public long pruneWriteCheckpoints(String position) {
    return transaction(
        dsl -> {
          // Of each key, every row older than its newest row at or below the position; the newest
          // row of each key
          // stays, so ids keep counting from it. Correlated on the primary key's leading columns.
          String outer = prefix + "client_checkpoints";
          Table<Record> kept = clientCheckpoints.as("kept");
          return (long)
              dsl.deleteFrom(clientCheckpoints)
                  .where(
                      DSL.field(name(outer, CHECKPOINT_ID.getName()), Long.class)
                          .lt(
                              DSL.select(
                                      DSL.max(
                                          DSL.field(
                                              name("kept", CHECKPOINT_ID.getName()), Long.class)))
                                  .from(kept)
                                  .where(
                                      DSL.field(name("kept", USER_ID.getName()), String.class)
                                          .eq(
                                              DSL.field(
                                                  name(outer, USER_ID.getName()), String.class))
                                          .and(
                                              DSL.field(
                                                      name("kept", CLIENT_ID.getName()),
                                                      String.class)
                                                  .eq(
                                                      DSL.field(
                                                          name(outer, CLIENT_ID.getName()),
                                                          String.class)))
                                          .and(
                                              DSL.field(
                                                      name("kept", POSITION.getName()),
                                                      String.class)
                                                  .le(position)))))
                  .execute();
        });
  }
}
