package dev.syncline.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpId;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SourceValue;
import dev.syncline.api.TableRef;
import dev.syncline.api.engine.ReplicationState;
import dev.syncline.api.rules.EvaluatedRow;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.core.replicate.Replicator;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.postgres.internal.PgCatalog;
import dev.syncline.postgres.internal.PgValues;
import dev.syncline.spi.source.SourceEvent;
import dev.syncline.spi.storage.BucketStorage;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.spi.storage.OpRecord;
import dev.syncline.testkit.Await;
import dev.syncline.testkit.postgres.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Runs a {@link PostgresSource} through a {@link Replicator} into bucket storage, and compares what
 * storage holds with what the rules give for the tables' current contents (read afresh with a plain
 * query).
 */
final class ReplicationHarness implements AutoCloseable {
  final TestPostgres postgres;
  final BucketStorage storage;
  final long version;
  final SyncRules rules;
  final List<SourceEvent> events = new CopyOnWriteArrayList<>();
  private final String slotPrefix;
  PostgresSource source;
  Replicator replicator;

  ReplicationHarness(TestPostgres postgres, String yaml, String slotPrefix) {
    this(postgres, new InMemoryBucketStorage(), yaml, slotPrefix);
  }

  ReplicationHarness(TestPostgres postgres, BucketStorage storage, String yaml, String slotPrefix) {
    this.postgres = postgres;
    this.storage = storage;
    this.version = storage.addRulesVersion(yaml).id();
    this.rules = SyncRulesCompiler.compile(SyncRulesSource.ofYaml(yaml, "sync-rules.yaml"));
    this.slotPrefix = slotPrefix;
  }

  PostgresSource.Builder sourceBuilder() {
    return PostgresSource.builder()
        .jdbcUrl(postgres.jdbcUrl())
        .user(postgres.user())
        .password(postgres.password())
        .publication(slotPrefix + "_pub", true)
        .slotPrefix(slotPrefix);
  }

  ReplicationHarness start() {
    return start(sourceBuilder());
  }

  ReplicationHarness start(PostgresSource.Builder builder) {
    source = builder.build();
    replicator =
        Replicator.builder()
            .rules(rules)
            .storage(storage, version)
            .source(source)
            .events(events::add)
            .backoff(Duration.ofMillis(50), Duration.ofMillis(500))
            .build()
            .start();
    return this;
  }

  /** Stops the replicator (as a crash would leave it: nothing more is written). */
  void stop() {
    replicator.close();
  }

  /** Waits until storage has a visible checkpoint at or past the source's current head. */
  Checkpoint awaitCaughtUp() {
    String head = source.writeCheckpointHead().serialize();
    Await.until(
        Duration.ofSeconds(90),
        () -> {
          var latest = storage.latestCheckpoint(version);
          if (latest.isPresent() && latest.get().position().compareTo(head) >= 0) {
            return true;
          }
          if (replicator.status().state() == ReplicationState.STOPPED) {
            // Not worth waiting for: fail now, with what the replicator said.
            throw new IllegalStateException(
                "the replicator stopped: " + replicator.status() + ", events " + events);
          }
          return false;
        },
        "storage to reach " + head);
    return storage.latestCheckpoint(version).orElseThrow();
  }

  void sql(String... statements) {
    try (Connection c = postgres.dataSource().getConnection();
        Statement s = c.createStatement()) {
      for (String st : statements) {
        s.execute(st);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Bucket contents in storage as of a checkpoint: table/id to data, after applying every op in
   * order.
   */
  Map<String, String> bucket(String bucket, Checkpoint checkpoint) {
    Map<String, String> rows = new TreeMap<>();
    OpId after = OpId.ZERO;
    while (true) {
      List<OpRecord> ops = storage.ops(version, bucket, after, checkpoint.opId(), 10_000);
      for (OpRecord op : ops) {
        switch (op.op()) {
          case PUT -> rows.put(op.objectType() + "/" + op.objectId(), op.data());
          case REMOVE -> rows.remove(op.objectType() + "/" + op.objectId());
          case CLEAR -> rows.clear();
          case MOVE -> {}
        }
      }
      if (ops.size() < 10_000) {
        return rows;
      }
      after = ops.get(ops.size() - 1).opId();
    }
  }

  /** What the rules put in {@code bucket} for the tables' current contents. */
  Map<String, String> expected(String bucket, String... tables) {
    Map<String, String> rows = new TreeMap<>();
    try (Connection c = postgres.dataSource().getConnection()) {
      PgCatalog.pinSessionSettings(c);
      PgCatalog catalog = new PgCatalog(c);
      PgValues values = new PgValues(catalog::type);
      for (String table : tables) {
        TableRef ref = TableRef.of("public", table);
        var info = catalog.tables(List.of(new TablePattern("default", "public", table)));
        try (Statement s = c.createStatement();
            ResultSet rs = s.executeQuery("SELECT * FROM " + table)) {
          int n = rs.getMetaData().getColumnCount();
          while (rs.next()) {
            Map<String, SourceValue> row = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
              row.put(
                  info.get(0).columns().get(i),
                  values.convertNullable(info.get(0).typeOids().get(i), rs.getString(i + 1)));
            }
            for (EvaluatedRow r : rules.evaluateRow(ref, new SourceRow(row)).rows()) {
              if (r.bucket().name().equals(bucket)) {
                rows.put(r.table() + "/" + r.id(), r.data());
              }
            }
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return rows;
  }

  /** Asserts that storage's bucket equals what the rules give for the tables now. */
  Map<String, String> assertReplicaMatches(String bucket, String... tables) {
    Checkpoint c = awaitCaughtUp();
    Map<String, String> expected = expected(bucket, tables);
    assertThat(bucket(bucket, c)).as("bucket %s at %s", bucket, c).isEqualTo(expected);
    return expected;
  }

  List<SourceEvent> events(Class<? extends SourceEvent> kind) {
    List<SourceEvent> out = new ArrayList<>();
    events.stream().filter(kind::isInstance).forEach(out::add);
    return out;
  }

  @Override
  public void close() {
    if (replicator != null) {
      replicator.close();
    }
    if (source != null) {
      source.dropVersion(version);
    }
    sql(
        "DROP TABLE IF EXISTS items, docs CASCADE",
        "DROP PUBLICATION IF EXISTS " + slotPrefix + "_pub");
  }
}
