package dev.syncline.testkit.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpId;
import dev.syncline.api.SourceRow;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.EvaluatedRow;
import dev.syncline.api.rules.ParameterEvaluation;
import dev.syncline.api.rules.ParameterLookupSource;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.rules.ResolvedBucket;
import dev.syncline.api.rules.SyncRules;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.api.stream.SyncLine;
import dev.syncline.api.stream.SyncRequest;
import dev.syncline.core.internal.replicate.BatchBuilder;
import dev.syncline.core.internal.storage.ChecksumCache;
import dev.syncline.core.internal.stream.NdjsonEncoder;
import dev.syncline.core.internal.stream.SyncSession;
import dev.syncline.core.rules.SyncRulesCompiler;
import dev.syncline.core.storage.InMemoryBucketStorage;
import dev.syncline.spi.source.SourceChange;
import dev.syncline.spi.storage.BucketStorageWriter;
import dev.syncline.spi.storage.Checkpoint;
import dev.syncline.testkit.ClientReplica;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Property (seeded random worlds): no client ever receives a row outside the buckets the rules give
 * it, also after its token's claims change between connections, and it receives every row it is
 * entitled to.
 */
class SyncSecurityPropertyTest {
  static final SyncRules RULES =
      SyncRulesCompiler.compile(
          SyncRulesSource.ofYaml(
              """
      bucket_definitions:
        owned:
          parameters: SELECT id AS list_id FROM lists WHERE owner_id = request.user_id()
          data:
            - SELECT * FROM todos WHERE list_id = bucket.list_id
        shared:
          parameters: SELECT list_id FROM shares WHERE user_id = request.user_id()
          data:
            - SELECT * FROM todos WHERE list_id = bucket.list_id
        org:
          parameters: SELECT request.jwt() ->> 'org' AS org
          data:
            - SELECT id, org_id, title FROM notes WHERE org_id = bucket.org
      """,
              "rules.yaml"));
  static final List<String> ID = List.of("id");
  static final List<String> USERS = List.of("u0", "u1", "u2", "u3", "u4");

  /** What the rules say a user may see: output table/id → data. */
  static Map<String, String> entitled(
      Map<String, Map<TableRef, SourceRow>> world, RequestContext request) {
    List<ParameterEvaluation> parameterRows = new ArrayList<>();
    world.forEach(
        (key, rows) ->
            rows.forEach(
                (t, r) -> {
                  if (RULES.syncsParameters(t)) {
                    parameterRows.add(RULES.evaluateParameterRow(t, r));
                  }
                }));
    Set<String> buckets = new HashSet<>();
    for (ResolvedBucket b :
        RULES.querier(request).allBuckets(ParameterLookupSource.of(parameterRows))) {
      buckets.add(b.bucket().name());
    }
    Map<String, String> out = new LinkedHashMap<>();
    world.forEach(
        (key, rows) ->
            rows.forEach(
                (t, r) -> {
                  for (EvaluatedRow e : RULES.evaluateRow(t, r).rows()) {
                    if (buckets.contains(e.bucket().name())) {
                      out.put(e.table() + "/" + e.id(), e.data());
                    }
                  }
                }));
    return out;
  }

  static Map<String, String> visible(ClientReplica replica) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String table : List.of("todos", "notes")) {
      replica.table(table).forEach((id, data) -> out.put(table + "/" + id, data));
    }
    return out;
  }

  @Test
  void clients_receive_exactly_their_rows() {
    SplittableRandom random = new SplittableRandom(4242);
    for (int world = 0; world < 40; world++) {
      InMemoryBucketStorage storage = new InMemoryBucketStorage();
      long version = storage.addRulesVersion("rules").id();
      try (BucketStorageWriter writer = storage.openWriter(version)) {
        BatchBuilder batch = new BatchBuilder(RULES, writer, e -> {});
        ChecksumCache cache = new ChecksumCache(storage, version, 1000, 4);
        Map<String, Map<TableRef, SourceRow>> rows = new LinkedHashMap<>();
        long position = 0;
        Checkpoint checkpoint = null;
        for (int step = 0; step < 6; step++) {
          for (int i = 0; i < 15; i++) {
            TableRef table;
            SourceRow row;
            switch (random.nextInt(4)) {
              case 0 -> {
                table = TableRef.of("public", "lists");
                row =
                    SourceRow.builder()
                        .put("id", "l" + random.nextInt(6))
                        .put("owner_id", USERS.get(random.nextInt(USERS.size())))
                        .build();
              }
              case 1 -> {
                table = TableRef.of("public", "shares");
                row =
                    SourceRow.builder()
                        .put("id", "s" + random.nextInt(6))
                        .put("list_id", "l" + random.nextInt(6))
                        .put("user_id", USERS.get(random.nextInt(USERS.size())))
                        .build();
              }
              case 2 -> {
                table = TableRef.of("public", "todos");
                row =
                    SourceRow.builder()
                        .put("id", "t" + random.nextInt(20))
                        .put("list_id", "l" + random.nextInt(6))
                        .put("title", "v" + random.nextInt(100))
                        .build();
              }
              default -> {
                table = TableRef.of("public", "notes");
                row =
                    SourceRow.builder()
                        .put("id", "n" + random.nextInt(10))
                        .put("org_id", "o" + random.nextInt(3))
                        .put("title", "v" + random.nextInt(100))
                        .build();
              }
            }
            String key = table.name() + "/" + row.get("id");
            if (random.nextInt(8) == 0 && rows.containsKey(key)) {
              batch.apply(SourceChange.delete(table, ID, row));
              rows.remove(key);
            } else {
              batch.apply(SourceChange.insert(table, ID, row));
              rows.put(key, Map.of(table, row));
            }
          }
          checkpoint = batch.commit(String.format("%016x", ++position)).orElseThrow();
        }
        for (String user : USERS) {
          RequestContext first =
              new RequestContext(Map.of("sub", user, "org", "o" + random.nextInt(3)), Map.of());
          ClientReplica replica = new ClientReplica();
          sync(
              new SyncSession(
                  RULES, storage, version, cache, new SyncRequest(Map.of(), true, "c", first)),
              checkpoint,
              replica);
          assertThat(visible(replica))
              .as("world %d user %s", world, user)
              .isEqualTo(entitled(rows, first));

          // The token now says something else (another user, another org); the client reconnects
          // with its buckets.
          String other = USERS.get(random.nextInt(USERS.size()));
          RequestContext second =
              new RequestContext(Map.of("sub", other, "org", "o" + random.nextInt(3)), Map.of());
          Map<String, OpId> after = new HashMap<>();
          replica.positions().forEach((b, p) -> after.put(b, OpId.parse(p)));
          sync(
              new SyncSession(
                  RULES, storage, version, cache, new SyncRequest(after, true, "c", second)),
              checkpoint,
              replica);
          assertThat(visible(replica))
              .as("world %d user %s then %s", world, user, other)
              .isEqualTo(entitled(rows, second));
        }
      }
    }
  }

  static void sync(SyncSession session, Checkpoint c, ClientReplica replica) {
    List<SyncLine> lines = session.checkpoint(c);
    lines.forEach(l -> replica.accept(NdjsonEncoder.encode(l)));
    if (!lines.isEmpty()) {
      session.data(c, l -> replica.accept(NdjsonEncoder.encode(l)));
    }
  }
}
