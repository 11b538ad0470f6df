package dev.syncline.postgres.internal;

import static dev.syncline.postgres.internal.RelationTrackerTest.col;
import static dev.syncline.postgres.internal.RelationTrackerTest.key;
import static dev.syncline.postgres.internal.RelationTrackerTest.relation;
import static dev.syncline.postgres.internal.RelationTrackerTest.tuple;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.SourceRow;
import dev.syncline.api.SqliteValue;
import dev.syncline.postgres.internal.PgCatalog.TableInfo;
import dev.syncline.spi.source.SourceChange;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Messages in, transactions out: the assembler without Postgres. */
class TransactionAssemblerTest {
  static final int TODOS = 7;
  static final int AUDIT = 8;

  final RelationTracker relations =
      new RelationTracker(
          List.of(RelationTrackerTest.TODOS),
          List.of(),
          new PgValues(PgType::scalar),
          (id, ref, identity, problems) ->
              new TableInfo(
                  ref,
                  id,
                  List.of(),
                  List.of(),
                  List.of("id"),
                  identity,
                  -1,
                  RelationTrackerTest.NO_IMAGES));

  /** What the assembler handed on, one line per call. */
  final List<String> out = new ArrayList<>();

  final TransactionAssembler.Output output =
      new TransactionAssembler.Output() {
        @Override
        public void begin(long finalLsn, boolean skipped) {
          out.add("begin " + finalLsn + (skipped ? " skipped" : ""));
        }

        @Override
        public void spill(List<SourceChange> changes) {
          out.add("spill " + describe(changes));
        }

        @Override
        public void commit(List<SourceChange> changes, long endLsn, long commitTimeMicros) {
          out.add("commit " + endLsn + " at " + commitTimeMicros + " " + describe(changes));
        }

        @Override
        public void relation(RelationTracker.Outcome outcome) {
          out.add("relation " + outcome.getClass().getSimpleName());
        }

        @Override
        public void typeChanged(int typeOid) {
          out.add("type " + typeOid);
        }

        @Override
        public void between() {
          out.add("between");
        }
      };

  /** Each change as its kind and row id: {@code [INSERT a, TRUNCATE]}. */
  static String describe(List<SourceChange> changes) {
    return changes.stream()
        .map(
            c -> {
              SourceRow row = c.after() != null ? c.after() : c.before();
              return row == null
                  ? c.kind().toString()
                  : c.kind() + " " + ((SqliteValue.TextValue) row.get("id")).value();
            })
        .toList()
        .toString();
  }

  TransactionAssembler assembler(int spillAt, long resumeFrom) throws Exception {
    TransactionAssembler a = new TransactionAssembler(relations, spillAt, resumeFrom);
    a.accept(relation(TODOS, "todos", 'd', key("id", 25), col("n", PgValues.INT4)), output);
    a.accept(relation(AUDIT, "audit", 'd', key("id", 25)), output);
    out.clear();
    return a;
  }

  static PgOutputMessage.Insert insert(int relation, String id) {
    return new PgOutputMessage.Insert(0, relation, tuple(id, "1"));
  }

  @Test
  void aTransactionsChangesOfTheRulesTablesComeOutAtItsCommit() throws Exception {
    TransactionAssembler a = assembler(100, 0);

    a.accept(new PgOutputMessage.Begin(500, 42, 1), output);
    assertThat(a.inTransaction()).isTrue();
    a.accept(insert(TODOS, "a"), output);
    a.accept(new PgOutputMessage.Insert(0, AUDIT, tuple("x")), output); // not read by the rules
    a.accept(
        new PgOutputMessage.Update(0, TODOS, 'K', tuple("a", "\u0000u"), tuple("b", "2")), output);
    a.accept(new PgOutputMessage.Delete(0, TODOS, 'K', tuple("b", "\u0000u")), output);
    a.accept(new PgOutputMessage.Truncate(0, 0, List.of(AUDIT, TODOS)), output);
    assertThat(a.holdsChanges()).isTrue();
    assertThat(out).containsExactly("begin 500");
    a.accept(new PgOutputMessage.Commit(0, 500, 520, 42), output);

    assertThat(out)
        .containsExactly("begin 500", "commit 520 at 42 [INSERT a, UPDATE b, DELETE b, TRUNCATE]");
    assertThat(a.inTransaction()).isFalse();
    assertThat(a.holdsChanges()).isFalse();
  }

  @Test
  void anUpdateWithTheFullOldRowFillsUnchangedColumnsFromIt() throws Exception {
    TransactionAssembler a = assembler(100, 0);
    List<SourceChange> committed = new ArrayList<>();
    TransactionAssembler.Output keep =
        new Forwarding(output) {
          @Override
          public void commit(List<SourceChange> changes, long endLsn, long commitTimeMicros) {
            committed.addAll(changes);
          }
        };

    a.accept(new PgOutputMessage.Begin(10, 0, 1), keep);
    a.accept(
        new PgOutputMessage.Update(0, TODOS, 'O', tuple("a", "7"), tuple("a", "\u0000u")), keep);
    a.accept(new PgOutputMessage.Update(0, TODOS, '0', null, tuple("a", "\u0000u")), keep);
    a.accept(new PgOutputMessage.Commit(0, 10, 11, 0), keep);

    assertThat(committed.get(0).after().get("n")).isEqualTo(SqliteValue.of(7L));
    assertThat(committed.get(0).unchanged()).isEmpty();
    assertThat(committed.get(1).unchanged()).containsExactly("n");
  }

  @Test
  void aLargeTransactionIsHandedOnInPartsOfTheSpillSize() throws Exception {
    TransactionAssembler a = assembler(2, 0);

    a.accept(new PgOutputMessage.Begin(900, 0, 1), output);
    for (String id : List.of("a", "b", "c", "d", "e")) {
      a.accept(insert(TODOS, id), output);
    }
    a.accept(new PgOutputMessage.Commit(0, 900, 910, 0), output);

    assertThat(out).hasSize(4);
    assertThat(out)
        .containsExactly(
            "begin 900",
            "spill [INSERT a, INSERT b]",
            "spill [INSERT c, INSERT d]",
            "commit 910 at 0 [INSERT e]");
  }

  @Test
  void transactionsEndingBeforeTheResumePositionAreLeftOut() throws Exception {
    TransactionAssembler a = assembler(100, 1000);

    a.accept(new PgOutputMessage.Begin(999, 0, 1), output);
    a.accept(insert(TODOS, "stored before the stop"), output);
    assertThat(a.holdsChanges()).isFalse();
    a.accept(new PgOutputMessage.Commit(0, 999, 1000, 0), output);
    a.accept(new PgOutputMessage.Begin(1000, 0, 2), output);
    a.accept(insert(TODOS, "new"), output);
    a.accept(new PgOutputMessage.Commit(0, 1000, 1010, 0), output);

    assertThat(out)
        .containsExactly("begin 999 skipped", "begin 1000", "commit 1010 at 0 [INSERT new]");
  }

  @Test
  void relationChangesTypesAndMessagesBetweenTransactionsAreHandedOn() throws Exception {
    TransactionAssembler a = assembler(100, 0);

    a.accept(relation(TODOS, "todos", 'd', key("id", 25)), output); // column n dropped
    a.accept(relation(TODOS, "todos", 'd', key("id", 25)), output); // re-sent: nothing
    a.accept(new PgOutputMessage.Type(0, 16500, "public", "mood"), output);
    a.accept(new PgOutputMessage.Message(0, false, 77, "x", new byte[0]), output);
    a.accept(new PgOutputMessage.Begin(80, 0, 1), output);
    a.accept(new PgOutputMessage.Message(0, false, 78, "x", new byte[0]), output); // inside
    a.accept(new PgOutputMessage.Message(0, true, 79, "x", new byte[0]), output);
    a.accept(new PgOutputMessage.Origin(5, "elsewhere"), output);
    a.accept(new PgOutputMessage.Commit(0, 80, 90, 0), output);

    assertThat(out)
        .containsExactly(
            "relation Changed", "type 16500", "between", "begin 80", "commit 90 at 0 []");
  }

  @Test
  void aStreamedTransactionIsAppliedWholeAndItsRelationsAreItsOwn() throws Exception {
    TransactionAssembler a = assembler(100, 0);
    try (TransactionSpool spool = new TransactionSpool(44, 1 << 20)) {
      // Inside the stream: the table gained a column, then a row of that shape.
      spool.add(
          44,
          new PgMessageBytes()
              .b('R')
              .i32(44)
              .i32(TODOS)
              .str("public")
              .str("todos")
              .b('d')
              .s16(3)
              .b(1)
              .str("id")
              .i32(25)
              .i32(-1)
              .b(0)
              .str("n")
              .i32(PgValues.INT4)
              .i32(-1)
              .b(0)
              .str("extra")
              .i32(25)
              .i32(-1)
              .buffer());
      spool.add(
          44,
          new PgMessageBytes()
              .b('I')
              .i32(44)
              .i32(TODOS)
              .b('N')
              .s16(3)
              .text("s")
              .text("1")
              .text("e")
              .buffer());

      a.accept(new PgOutputMessage.Begin(10, 0, 1), output);
      a.accept(insert(TODOS, "before"), output);
      a.accept(new PgOutputMessage.Commit(0, 10, 20, 0), output);
      a.applyStreamed(new PgOutputMessage.StreamCommit(44, 0, 30, 40, 5), spool, output);
    }
    // After the streamed transaction the main stream's Relation applies again (two columns).
    a.accept(new PgOutputMessage.Begin(50, 0, 2), output);
    a.accept(insert(TODOS, "after"), output);
    a.accept(new PgOutputMessage.Commit(0, 50, 60, 0), output);

    assertThat(out)
        .containsExactly(
            "begin 10",
            "commit 20 at 0 [INSERT before]",
            "begin 30",
            "relation Changed",
            "commit 40 at 5 [INSERT s]",
            "begin 50",
            "commit 60 at 0 [INSERT after]");
  }

  @Test
  void theSpillSizeMustBePositive() {
    assertThatThrownBy(() -> new TransactionAssembler(relations, 0, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** An output that passes everything on to another one. */
  private static class Forwarding implements TransactionAssembler.Output {
    private final TransactionAssembler.Output to;

    Forwarding(TransactionAssembler.Output to) {
      this.to = to;
    }

    @Override
    public void begin(long finalLsn, boolean skipped) throws Exception {
      to.begin(finalLsn, skipped);
    }

    @Override
    public void spill(List<SourceChange> changes) throws Exception {
      to.spill(changes);
    }

    @Override
    public void commit(List<SourceChange> changes, long endLsn, long commitTimeMicros)
        throws Exception {
      to.commit(changes, endLsn, commitTimeMicros);
    }

    @Override
    public void relation(RelationTracker.Outcome outcome) throws Exception {
      to.relation(outcome);
    }

    @Override
    public void typeChanged(int typeOid) {
      to.typeChanged(typeOid);
    }

    @Override
    public void between() throws Exception {
      to.between();
    }
  }
}
