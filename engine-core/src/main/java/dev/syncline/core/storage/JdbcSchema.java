package dev.syncline.core.storage;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.core.internal.storage.OpPacks;
import dev.syncline.core.internal.storage.StorageCodec;
import dev.syncline.spi.storage.SourceKey;
import dev.syncline.spi.storage.WriteCheckpointKey;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Row4;
import org.jooq.SQLDialect;
import org.jooq.Table;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;

/**
 * Creates a storage's tables and migrates older ones, step by step up to {@link
 * JdbcBucketStorage#SCHEMA_VERSION}, in one transaction; refuses a schema newer than this code.
 * Called once, by {@link JdbcBucketStorage.Builder#build()}.
 */
final class JdbcSchema extends JdbcStoragePart {

  JdbcSchema(DataSource dataSource, SQLDialect dialect, String prefix) {
    super(dataSource, dialect, prefix);
  }

  void migrate() {
    transaction(
        dsl -> {
          Table<Record> schema = table(name(prefix + "schema_version"));
          Field<Integer> version = field(name("version"), SQLDataType.INTEGER);
          dsl.createTableIfNotExists(schema)
              .column(version)
              .constraints(DSL.primaryKey(version))
              .execute();
          Integer current = dsl.select(DSL.max(version)).from(schema).fetchOne(0, Integer.class);
          int from = current == null ? 0 : current;
          if (from > JdbcBucketStorage.SCHEMA_VERSION) {
            throw new SynclineException(
                ErrorCode.STORAGE_FAILED,
                "storage schema version "
                    + from
                    + " is newer than "
                    + "this Syncline supports ("
                    + JdbcBucketStorage.SCHEMA_VERSION
                    + "); upgrade Syncline");
          }
          if (from < 1) {
            createV1(dsl);
            dsl.insertInto(schema).columns(version).values(1).execute();
          }
          if (from < 2) {
            migrateV2(dsl);
            dsl.insertInto(schema).columns(version).values(2).execute();
          }
          if (from < 3) {
            migrateV3(dsl);
            dsl.insertInto(schema).columns(version).values(3).execute();
          }
          if (from < 4) {
            migrateV4(dsl);
            dsl.insertInto(schema).columns(version).values(4).execute();
          }
          if (from < 5) {
            migrateV5(dsl);
            dsl.insertInto(schema).columns(version).values(5).execute();
          }
          return null;
        });
  }

  private void createV1(DSLContext dsl) {
    dsl.createTableIfNotExists(rules)
        .columns(ID, CONTENT, STATE, LAST_OP, CHECKPOINT_OP, CHECKPOINT_POS, REPLICATOR)
        .constraints(DSL.primaryKey(ID))
        .execute();
    dsl.createTableIfNotExists(bucketData)
        .columns(
            VERSION, BUCKET, OP_ID, OP, OBJECT_TYPE, OBJECT_ID, SUBKEY, DATA, CHECKSUM, TARGET_OP)
        .constraints(DSL.primaryKey(VERSION, BUCKET, OP_ID))
        .execute();
    dsl.createTableIfNotExists(currentData)
        .columns(VERSION, SOURCE_TABLE, SOURCE_KEY, IMAGE, PLACEMENTS, LOOKUPS)
        .constraints(DSL.primaryKey(VERSION, SOURCE_TABLE, SOURCE_KEY))
        .execute();
    dsl.createTableIfNotExists(parameters)
        .columns(VERSION, LOOKUP, SOURCE_TABLE, SOURCE_KEY, OP_ID, ROWS)
        .constraints(DSL.primaryKey(VERSION, LOOKUP, SOURCE_TABLE, SOURCE_KEY, OP_ID))
        .execute();
    dsl.createTableIfNotExists(snapshots)
        .columns(VERSION, SOURCE_TABLE, DONE, PROGRESS)
        .constraints(DSL.primaryKey(VERSION, SOURCE_TABLE))
        .execute();
    dsl.createTableIfNotExists(legacyWriteCheckpoints)
        .columns(USER_KEY, CHECKPOINT_ID, POSITION)
        .constraints(DSL.primaryKey(USER_KEY, CHECKPOINT_ID))
        .execute();
    dsl.createTableIfNotExists(locks)
        .columns(VERSION, OWNER)
        .constraints(DSL.primaryKey(VERSION))
        .execute();
  }

  /**
   * Version 2: on Postgres, the text columns of the large tables' keys compare bytewise ({@code
   * COLLATE "C"}): their order means nothing to anyone, and a linguistic collation made every index
   * insert of the initial copy about a third slower. Rewrites those tables' indexes once.
   */
  private void migrateV2(DSLContext dsl) {
    db.collateBytewise(dsl, bucketData, List.of(BUCKET));
    db.collateBytewise(dsl, currentData, List.of(SOURCE_TABLE, SOURCE_KEY));
    db.collateBytewise(dsl, parameters, List.of(LOOKUP, SOURCE_TABLE, SOURCE_KEY));
  }

  /**
   * Version 3: current rows are keyed by {@link StorageCodec#storedKey} (integer keys ascend as
   * text) instead of the source key itself. Rewrites the stored keys in place, with the same rule
   * in SQL.
   */
  private void migrateV3(DSLContext dsl) {
    String table = dsl.render(currentData);
    String key = dsl.render(SOURCE_KEY);
    // (No regex quantifier braces: jOOQ reads braces in plain SQL as placeholders.)
    String integer = db.regexMatches(key, "^\\[[0-9]+\\]$") + " AND LENGTH(" + key + ") <= 21";
    String letter = db.chr("94 + LENGTH(" + key + ")");
    dsl.execute(
        "UPDATE "
            + table
            + " SET "
            + key
            + " = CASE WHEN "
            + key
            + " NOT LIKE '[%' THEN '~' || "
            + key
            + " WHEN ("
            + integer
            + ") THEN "
            + letter
            + " || "
            + key
            + " ELSE "
            + key
            + " END"
            + " WHERE "
            + key
            + " NOT LIKE '[%' OR ("
            + integer
            + ")");
  }

  /**
   * Version 4: a row of the op log may hold a pack of one bucket's ops ({@link OpPacks}); existing
   * rows are single ops, which the new columns' defaults say. Current rows may store placements in
   * their short form ({@link StorageCodec#placements(List, SourceKey)}), which earlier versions
   * could not read: the version number keeps them from opening such a database.
   */
  private void migrateV4(DSLContext dsl) {
    dsl.alterTable(bucketData).addColumn(FIRST_OP).execute();
    dsl.alterTable(bucketData)
        .addColumn(OP_COUNT, SQLDataType.INTEGER.nullable(false).defaultValue(1))
        .execute();
  }

  /**
   * Version 5: write checkpoints are keyed by user and client in two columns ({@code
   * <prefix>client_checkpoints}), no longer by {@code "<user>/<client>"}, which named two pairs
   * alike (user {@code a/b} with client {@code c}, user {@code a} with client {@code b/c}).
   * Existing keys are split at their last {@code /} (client ids are the SDKs' UUIDs); rows no
   * client could have made (an id beyond {@link WriteCheckpointKey#MAX_ID}, a client id too long or
   * with control characters) are dropped; then the old table is dropped.
   */
  private void migrateV5(DSLContext dsl) {
    dsl.createTableIfNotExists(clientCheckpoints)
        .columns(USER_ID, CLIENT_ID, CHECKPOINT_ID, POSITION)
        .constraints(DSL.primaryKey(USER_ID, CLIENT_ID, CHECKPOINT_ID))
        .execute();
    db.collateBytewise(dsl, clientCheckpoints, List.of(USER_ID, CLIENT_ID));
    List<Row4<String, String, Long, String>> rows = new ArrayList<>();
    try (var cursor =
        dsl.select(USER_KEY, CHECKPOINT_ID, POSITION).from(legacyWriteCheckpoints).fetchLazy()) {
      for (var r : cursor) {
        String key = r.value1();
        int slash = key.lastIndexOf('/');
        String user = slash < 0 ? key : key.substring(0, slash);
        String client = slash < 0 ? "" : key.substring(slash + 1);
        WriteCheckpointKey k;
        try {
          k = new WriteCheckpointKey(user, client);
        } catch (SynclineException e) {
          continue; // no client could have made it
        }
        if (r.value2() == null || r.value2() < 1 || r.value2() > WriteCheckpointKey.MAX_ID) {
          continue;
        }
        rows.add(DSL.row(k.userId(), k.clientId(), r.value2(), r.value3()));
        if (rows.size() == INSERT_CHUNK) {
          insertClientCheckpoints(dsl, rows);
        }
      }
    }
    insertClientCheckpoints(dsl, rows);
    dsl.dropTable(legacyWriteCheckpoints).execute();
  }

  private void insertClientCheckpoints(
      DSLContext dsl, List<Row4<String, String, Long, String>> rows) {
    if (!rows.isEmpty()) {
      dsl.insertInto(clientCheckpoints, USER_ID, CLIENT_ID, CHECKPOINT_ID, POSITION)
          .valuesOfRows(rows)
          .execute();
      rows.clear();
    }
  }
}
