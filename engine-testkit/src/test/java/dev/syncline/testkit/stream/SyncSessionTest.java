package dev.syncline.testkit.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.RequestContext;
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
import dev.syncline.spi.storage.WriteCheckpointKey;
import dev.syncline.testkit.ClientReplica;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Lines a connection receives, decoded and checked exactly as a client does. */
class SyncSessionTest {
  static final SyncRules RULES =
      SyncRulesCompiler.compile(
          SyncRulesSource.ofYaml(
              """
      bucket_definitions:
        announcements:
          priority: 0
          data:
            - SELECT id, title FROM announcements
        owned:
          parameters: SELECT id AS list_id FROM lists WHERE owner_id = request.user_id()
          data:
            - SELECT * FROM lists WHERE id = bucket.list_id
            - SELECT * FROM todos WHERE list_id = bucket.list_id
      """,
              "rules.yaml"));
  static final List<String> ID = List.of("id");
  static final TableRef LISTS = TableRef.of("public", "lists");
  static final TableRef TODOS = TableRef.of("public", "todos");
  static final TableRef ANNOUNCEMENTS = TableRef.of("public", "announcements");

  final InMemoryBucketStorage storage = new InMemoryBucketStorage();
  final long version = storage.addRulesVersion("rules").id();
  final BucketStorageWriter writer = storage.openWriter(version);
  final BatchBuilder batch =
      new BatchBuilder(
          RULES,
          writer,
          e -> {
            throw new AssertionError(e.toString());
          });
  final ChecksumCache cache = new ChecksumCache(storage, version, 1000, 4);
  long position;

  @AfterEach
  void close() {
    writer.close();
  }

  Checkpoint commit(SourceChange... changes) {
    for (SourceChange c : changes) {
      batch.apply(c);
    }
    return batch.commit(String.format("%016x", ++position)).orElseThrow();
  }

  static SourceRow row(Object... kv) {
    SourceRow.Builder b = SourceRow.builder();
    for (int i = 0; i < kv.length; i += 2) {
      b.put((String) kv[i], (String) kv[i + 1]);
    }
    return b.build();
  }

  SyncSession session(String user, Map<String, OpId> after) {
    return new SyncSession(
        RULES,
        storage,
        version,
        cache,
        new SyncRequest(after, true, "client-1", RequestContext.forUser(user)));
  }

  /** Runs one checkpoint through the session into the client; returns the NDJSON lines. */
  static List<String> sync(SyncSession session, Checkpoint c, ClientReplica client)
      throws Exception {
    List<String> lines = new ArrayList<>();
    for (SyncLine l : session.checkpoint(c)) {
      lines.add(NdjsonEncoder.encode(l));
    }
    if (!lines.isEmpty()) {
      session.data(c, l -> lines.add(NdjsonEncoder.encode(l)));
    }
    for (String l : lines) {
      client.accept(l);
    }
    return lines;
  }

  @Test
  void initial_sync_sends_checkpoint_data_by_priority_and_completes_with_matching_checksums()
      throws Exception {
    Checkpoint c =
        commit(
            SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")),
            SourceChange.insert(TODOS, ID, row("id", "t1", "list_id", "l1", "description", "Milk")),
            SourceChange.insert(
                TODOS, ID, row("id", "t2", "list_id", "l9", "description", "Not hers")),
            SourceChange.insert(ANNOUNCEMENTS, ID, row("id", "a1", "title", "Hello")));
    ClientReplica client = new ClientReplica();
    List<String> lines = sync(session("alice", Map.of()), c, client);
    assertThat(lines.get(0)).startsWith("{\"checkpoint\":{\"last_op_id\":\"" + c.opId() + "\"");
    assertThat(lines.get(1)).startsWith("{\"data\":{\"bucket\":\"announcements[]\"");
    assertThat(lines.get(2))
        .isEqualTo(
            "{\"partial_checkpoint_complete\":{\"last_op_id\":\""
                + c.opId()
                + "\",\"priority\":0}}\n");
    assertThat(lines.get(lines.size() - 1))
        .isEqualTo("{\"checkpoint_complete\":{\"last_op_id\":\"" + c.opId() + "\"}}\n");
    assertThat(client.completed()).isEqualTo(1);
    assertThat(client.rows()).hasSize(3).noneSatisfy((k, v) -> assertThat(v).contains("Not hers"));
  }

  @Test
  void changes_arrive_as_diffs_with_only_the_new_ops() throws Exception {
    Checkpoint c1 =
        commit(
            SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")),
            SourceChange.insert(
                TODOS, ID, row("id", "t1", "list_id", "l1", "description", "Milk")));
    SyncSession session = session("alice", Map.of());
    ClientReplica client = new ClientReplica();
    sync(session, c1, client);
    Checkpoint c2 =
        commit(
            SourceChange.update(
                TODOS, ID, null, row("id", "t1", "list_id", "l1", "description", "Oat milk")));
    List<String> lines = sync(session, c2, client);
    assertThat(lines.get(0))
        .startsWith(
            "{\"checkpoint_diff\":{\"last_op_id\":\""
                + c2.opId()
                + "\",\"updated_buckets\":[{\"bucket\":\"owned[\\\"l1\\\"]\"");
    assertThat(lines.get(1))
        .contains("\"after\":\"" + c1.opId() + "\"")
        .contains("Oat milk")
        .doesNotContain("\"description\":\"Milk\"");
    assertThat(client.completed()).isEqualTo(2);
    assertThat(client.rows().values()).anySatisfy(v -> assertThat(v).contains("Oat milk"));
  }

  @Test
  void an_unchanged_checkpoint_sends_nothing() throws Exception {
    Checkpoint c1 = commit(SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")));
    SyncSession session = session("alice", Map.of());
    ClientReplica client = new ClientReplica();
    sync(session, c1, client);
    Checkpoint c2 = commit(SourceChange.insert(LISTS, ID, row("id", "l2", "owner_id", "bob")));
    assertThat(sync(session, c2, client)).isEmpty();
  }

  @Test
  void losing_access_removes_the_bucket() throws Exception {
    Checkpoint c1 =
        commit(
            SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")),
            SourceChange.insert(
                TODOS, ID, row("id", "t1", "list_id", "l1", "description", "Milk")));
    SyncSession session = session("alice", Map.of());
    ClientReplica client = new ClientReplica();
    sync(session, c1, client);
    Checkpoint c2 =
        commit(SourceChange.update(LISTS, ID, null, row("id", "l1", "owner_id", "bob")));
    List<String> lines = sync(session, c2, client);
    assertThat(lines.get(0)).contains("\"removed_buckets\":[\"owned[\\\"l1\\\"]\"]");
    assertThat(client.rows()).isEmpty();
  }

  @Test
  void a_reconnecting_client_receives_only_what_it_missed() throws Exception {
    Checkpoint c1 =
        commit(
            SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")),
            SourceChange.insert(
                TODOS, ID, row("id", "t1", "list_id", "l1", "description", "Milk")));
    ClientReplica client = new ClientReplica();
    sync(session("alice", Map.of()), c1, client);
    Checkpoint c2 =
        commit(
            SourceChange.insert(
                TODOS, ID, row("id", "t2", "list_id", "l1", "description", "Eggs")));
    Map<String, OpId> after = Map.of("owned[\"l1\"]", c1.opId(), "announcements[]", c1.opId());
    List<String> lines = sync(session("alice", after), c2, client);
    assertThat(lines.get(0)).startsWith("{\"checkpoint\":");
    assertThat(String.join("", lines)).contains("Eggs").doesNotContain("\"description\":\"Milk\"");
    assertThat(client.rows()).hasSize(3);
  }

  @Test
  void a_write_checkpoint_is_announced_once_replication_passes_it() throws Exception {
    Checkpoint c1 = commit(SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")));
    SyncSession session = session("alice", Map.of());
    ClientReplica client = new ClientReplica();
    sync(session, c1, client);
    long id =
        storage.createWriteCheckpoint(
            new WriteCheckpointKey("alice", "client-1"), String.format("%016x", position + 1));
    Checkpoint c2 = batch.commit(String.format("%016x", ++position)).orElseThrow();
    List<String> lines = sync(session, c2, client);
    assertThat(lines.get(0))
        .contains("\"write_checkpoint\":\"" + id + "\"")
        .contains("\"updated_buckets\":[]");
    assertThat(client.writeCheckpoint()).isEqualTo(Long.toString(id));
  }

  @Test
  void a_long_download_yields_to_a_newer_checkpoint_after_a_thousand_ops() throws Exception {
    commit(SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")));
    for (int i = 0; i < 2500; i++) {
      batch.apply(
          SourceChange.insert(
              TODOS, ID, row("id", "t" + i, "list_id", "l1", "description", "d" + i)));
    }
    Checkpoint c1 = batch.commit(String.format("%016x", ++position)).orElseThrow();
    SyncSession session = session("alice", Map.of());
    ClientReplica client = new ClientReplica();
    List<String> lines = new ArrayList<>();
    session.checkpoint(c1).forEach(l -> lines.add(NdjsonEncoder.encode(l)));
    boolean completed = session.data(c1, l -> lines.add(NdjsonEncoder.encode(l)), () -> true);
    lines.forEach(client::accept);
    assertThat(completed).isFalse();
    assertThat(lines).noneMatch(l -> l.startsWith("{\"checkpoint_complete\""));
    assertThat(lines.stream().filter(l -> l.startsWith("{\"data\"")).count()).isEqualTo(1);

    Checkpoint c2 =
        commit(
            SourceChange.insert(TODOS, ID, row("id", "late", "list_id", "l1", "description", "x")));
    sync(session, c2, client);
    assertThat(client.completed()).isEqualTo(1);
    assertThat(client.table("todos")).hasSize(2501);
  }

  @Test
  void too_many_buckets_end_the_stream_with_a_typed_error() {
    Checkpoint c =
        commit(
            SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")),
            SourceChange.insert(LISTS, ID, row("id", "l2", "owner_id", "alice")));
    SyncSession session =
        new SyncSession(
            RULES,
            storage,
            version,
            cache,
            new SyncRequest(Map.of(), true, "c", RequestContext.forUser("alice")),
            2,
            1000);
    Assertions.assertThatThrownBy(() -> session.checkpoint(c))
        .isInstanceOfSatisfying(
            SynclineException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.TOO_MANY_BUCKETS));
  }

  @Test
  void too_many_parameter_results_end_the_stream_with_a_typed_error() {
    Checkpoint c =
        commit(
            SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")),
            SourceChange.insert(LISTS, ID, row("id", "l2", "owner_id", "alice")),
            SourceChange.insert(LISTS, ID, row("id", "l3", "owner_id", "bob")));
    SyncSession alice =
        new SyncSession(
            RULES,
            storage,
            version,
            cache,
            new SyncRequest(Map.of(), true, "c", RequestContext.forUser("alice")),
            1000,
            1);
    Assertions.assertThatThrownBy(() -> alice.checkpoint(c))
        .isInstanceOfSatisfying(
            SynclineException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.TOO_MANY_BUCKETS);
              assertThat(e.getMessage()).contains("returned 2 rows; at most 1");
            });
    SyncSession bob =
        new SyncSession(
            RULES,
            storage,
            version,
            cache,
            new SyncRequest(Map.of(), true, "c", RequestContext.forUser("bob")),
            1000,
            1);
    assertThat(bob.checkpoint(c)).isNotEmpty();
  }

  @Test
  void completion_stays_withheld_when_a_compacted_op_was_sent_before_the_data_phase_paused()
      throws Exception {
    Checkpoint c1 =
        commit(
            SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")),
            SourceChange.insert(LISTS, ID, row("id", "l2", "owner_id", "alice")),
            SourceChange.insert(TODOS, ID, row("id", "t1", "list_id", "l1", "description", "a")),
            SourceChange.insert(TODOS, ID, row("id", "t2", "list_id", "l2", "description", "b")));
    SyncSession late = session("alice", Map.of());
    ClientReplica client = new ClientReplica();
    late.checkpoint(c1).forEach(l -> client.accept(NdjsonEncoder.encode(l)));
    Checkpoint c2 =
        commit(
            SourceChange.update(
                TODOS, ID, null, row("id", "t1", "list_id", "l1", "description", "c")));
    storage.compact(version, c2.opId());

    // The transport saturates after the first page (bucket l1, with the compacted op), then drains.
    List<String> lines = new ArrayList<>();
    boolean first =
        late.data(
            c1,
            l -> lines.add(NdjsonEncoder.encode(l)),
            () -> false,
            () -> lines.stream().anyMatch(l -> l.startsWith("{\"data\"")));
    assertThat(first).isFalse();
    assertThat(lines)
        .filteredOn(l -> l.startsWith("{\"data\""))
        .singleElement()
        .asString()
        .contains("owned[\\\"l1\\\"]")
        .contains("\"op\":\"MOVE\"");
    assertThat(late.hasPendingData()).isTrue();
    late.data(c1, l -> lines.add(NdjsonEncoder.encode(l)), () -> false, () -> false);
    lines.forEach(client::accept);
    assertThat(lines).filteredOn(l -> l.startsWith("{\"data\"")).hasSize(2);
    assertThat(lines)
        .as("the MOVE sent before the pause points past c1")
        .noneMatch(l -> l.startsWith("{\"checkpoint_complete\""));
    sync(late, c2, client);
    assertThat(client.table("todos").get("t1")).contains("\"c\"");
    assertThat(client.table("todos")).containsOnlyKeys("t1", "t2");
  }

  @Test
  void compaction_while_a_client_streams_keeps_it_consistent() throws Exception {
    Checkpoint c1 =
        commit(
            SourceChange.insert(LISTS, ID, row("id", "l1", "owner_id", "alice")),
            SourceChange.insert(TODOS, ID, row("id", "t1", "list_id", "l1", "description", "a")),
            SourceChange.insert(TODOS, ID, row("id", "t2", "list_id", "l1", "description", "b")));
    SyncSession early = session("alice", Map.of());
    ClientReplica earlyClient = new ClientReplica();
    sync(early, c1, earlyClient);

    // A client whose checkpoint line went out before compaction rewrote ops past that checkpoint.
    SyncSession late = session("alice", Map.of());
    ClientReplica lateClient = new ClientReplica();
    late.checkpoint(c1).forEach(l -> lateClient.accept(NdjsonEncoder.encode(l)));

    Checkpoint c2 =
        commit(
            SourceChange.update(
                TODOS, ID, null, row("id", "t1", "list_id", "l1", "description", "c")),
            SourceChange.delete(TODOS, ID, row("id", "t2")));
    storage.compact(version, c2.opId());

    List<String> lateLines = new ArrayList<>();
    late.data(c1, l -> lateLines.add(NdjsonEncoder.encode(l)));
    lateLines.forEach(lateClient::accept);
    assertThat(lateLines)
        .as("completion withheld: compacted ops point past c1")
        .noneMatch(l -> l.startsWith("{\"checkpoint_complete\""));
    sync(late, c2, lateClient);
    sync(early, c2, earlyClient);
    ClientReplica fresh = new ClientReplica();
    sync(session("alice", Map.of()), c2, fresh);
    for (ClientReplica client : List.of(earlyClient, lateClient, fresh)) {
      assertThat(client.table("todos")).containsOnlyKeys("t1");
      assertThat(client.table("todos").get("t1")).contains("\"c\"");
    }
  }
}
