package dev.syncline.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SourceRow;
import dev.syncline.api.SqliteValue;
import dev.syncline.api.SynclineException;
import dev.syncline.api.TableRef;
import dev.syncline.api.rules.TablePattern;
import dev.syncline.postgres.internal.PgCatalog.TableInfo;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The relation tracker without Postgres: Relation messages as pgoutput sends them, a catalog that
 * answers from a map.
 */
class RelationTrackerTest {
  static final TablePattern TODOS = new TablePattern("default", "public", "todos");
  static final TableRef TODOS_REF = new TableRef("default", "public", "todos");
  static final RowImages NO_IMAGES = new RowImages(Map.of(), 2032, true);

  /** What the catalog says now (which may be later than the message being read). */
  final List<String> catalogKey = new ArrayList<>(List.of("id"));

  final List<String> describedAs = new ArrayList<>();

  final RelationTracker.Describer catalog =
      (id, ref, identity, problems) -> {
        describedAs.add(ref.name() + "/" + identity);
        if (catalogKey.isEmpty()) {
          problems.add(PgCatalog.noKeyProblem(ref, identity));
          return null;
        }
        return new TableInfo(ref, id, List.of(), List.of(), catalogKey, identity, -1, NO_IMAGES);
      };

  final RelationTracker tracker =
      new RelationTracker(List.of(TODOS), List.of(), new PgValues(PgType::scalar), catalog);

  static PgOutputMessage.Relation relation(
      int id, String name, char identity, PgOutputMessage.Column... columns) {
    return new PgOutputMessage.Relation(0, id, "public", name, identity, List.of(columns));
  }

  static PgOutputMessage.Column key(String name, int type) {
    return new PgOutputMessage.Column(true, name, type, -1);
  }

  static PgOutputMessage.Column col(String name, int type) {
    return new PgOutputMessage.Column(false, name, type, -1);
  }

  static PgOutputMessage.TupleData tuple(String... texts) {
    char[] kinds = new char[texts.length];
    byte[][] values = new byte[texts.length][];
    for (int i = 0; i < texts.length; i++) {
      kinds[i] = texts[i] == null ? 'n' : "\u0000u".equals(texts[i]) ? 'u' : 't';
      values[i] = kinds[i] == 't' ? texts[i].getBytes(StandardCharsets.UTF_8) : new byte[0];
    }
    return new PgOutputMessage.TupleData(kinds, values);
  }

  @Test
  void aTableOfTheRulesIsAddedWithTheStreamsColumnsAndTypes() throws Exception {
    RelationTracker.Outcome o =
        tracker.relation(
            relation(7, "todos", 'd', key("id", PgValues.TEXT), col("n", PgValues.INT4)));

    assertThat(o).isInstanceOf(RelationTracker.Outcome.Added.class);
    TableInfo t = tracker.table(7);
    assertThat(t).isNotNull();
    assertThat(t.ref()).isEqualTo(TODOS_REF);
    assertThat(t.columns()).containsExactly("id", "n");
    assertThat(t.typeOids()).containsExactly(PgValues.TEXT, PgValues.INT4);
    assertThat(t.keyColumns()).containsExactly("id");
    assertThat(tracker.row(7, tuple("a", "5"), null, null).get("n")).isEqualTo(SqliteValue.of(5L));
  }

  @Test
  void otherTablesAreDecodedButNotTracked() throws Exception {
    RelationTracker.Outcome o =
        tracker.relation(relation(8, "audit", 'd', key("id", PgValues.TEXT)));

    assertThat(o).isInstanceOf(RelationTracker.Outcome.Unchanged.class);
    assertThat(tracker.table(8)).isNull();
    assertThat(describedAs).isEmpty(); // the catalog is not asked about tables nobody reads
    assertThat(tracker.row(8, tuple("x"), null, null).get("id")).isEqualTo(SqliteValue.of("x"));
  }

  @Test
  void theSameRelationSentAgainChangesNothingAndAsksNothing() throws Exception {
    tracker.relation(relation(7, "todos", 'd', key("id", PgValues.TEXT), col("n", PgValues.INT4)));
    describedAs.clear();

    assertThat(
            tracker.relation(
                relation(7, "todos", 'd', key("id", PgValues.TEXT), col("n", PgValues.INT4))))
        .isInstanceOf(RelationTracker.Outcome.Unchanged.class);
    assertThat(describedAs).isEmpty();
  }

  /**
   * The key changed while the columns stayed (primary key dropped and made on another column): the
   * message's flags show it. Before, the tracker compared columns and identity only and kept keying
   * rows by the old key.
   */
  @Test
  void aKeyChangedInPlaceIsSeenFromTheMessagesFlags() throws Exception {
    tracker.relation(relation(7, "todos", 'd', key("id", PgValues.TEXT), col("code", 25)));
    catalogKey.clear();
    catalogKey.add("code");

    RelationTracker.Outcome o =
        tracker.relation(relation(7, "todos", 'd', col("id", PgValues.TEXT), key("code", 25)));

    assertThat(o).isInstanceOf(RelationTracker.Outcome.Changed.class);
    assertThat(((RelationTracker.Outcome.Changed) o).description())
        .contains("identity changed from [id] to [code]");
    assertThat(tracker.table(7).keyColumns()).containsExactly("code");
  }

  /**
   * A message read after the catalog moved on (its key changed again since the change was written)
   * keys rows by the identity the change was written with: the old tuple of a delete carries those
   * columns only.
   */
  @Test
  void theMessageNotTheCatalogNamesTheKeyOfItsChanges() throws Exception {
    catalogKey.clear();
    catalogKey.add("code"); // what the catalog says now
    tracker.relation(relation(7, "todos", 'd', key("id", PgValues.TEXT), col("code", 25)));

    assertThat(tracker.table(7).keyColumns()).containsExactly("id");
  }

  @Test
  void theCatalogOrdersAKeyOfSeveralColumnsAsTheCopyDoes() throws Exception {
    catalogKey.clear();
    catalogKey.addAll(List.of("b", "a")); // PRIMARY KEY (b, a) on columns (a, b)
    tracker.relation(relation(7, "todos", 'd', key("a", 25), key("b", 25)));

    assertThat(tracker.table(7).keyColumns()).containsExactly("b", "a");
  }

  @Test
  void replicaIdentityFullKeepsThePrimaryKeyThoughEveryColumnIsFlagged() throws Exception {
    tracker.relation(relation(7, "todos", 'f', key("id", 25), key("n", PgValues.INT4)));

    assertThat(tracker.table(7).keyColumns()).containsExactly("id");
  }

  @Test
  void aTableThatLostItsIdentityIsRefusedAndForgotten() throws Exception {
    tracker.relation(relation(7, "todos", 'd', key("id", 25)));
    catalogKey.clear();

    RelationTracker.Outcome o = tracker.relation(relation(7, "todos", 'n', col("id", 25)));

    assertThat(o).isInstanceOf(RelationTracker.Outcome.Refused.class);
    assertThat(((RelationTracker.Outcome.Refused) o).problem())
        .contains("REPLICA IDENTITY NOTHING");
    assertThat(tracker.table(7)).isNull();
  }

  @Test
  void aRenamedTableKeepsItsRelationAndSaysSo() throws Exception {
    tracker.relation(relation(7, "todos", 'd', key("id", 25)));

    RelationTracker.Outcome o = tracker.relation(relation(7, "tasks", 'd', key("id", 25)));

    assertThat(o).isInstanceOf(RelationTracker.Outcome.Changed.class);
    assertThat(tracker.table(7).ref().name()).isEqualTo("tasks");
    assertThat(((RelationTracker.Outcome.Changed) o).description()).contains("renamed from todos");
  }

  @Test
  void addedAndRemovedColumnsAreNamed() throws Exception {
    tracker.relation(relation(7, "todos", 'd', key("id", 25), col("old", 25)));

    RelationTracker.Outcome o =
        tracker.relation(relation(7, "todos", 'd', key("id", 25), col("new", 25)));

    assertThat(((RelationTracker.Outcome.Changed) o).description())
        .contains("columns added: [new]")
        .contains("columns removed: [old]");
    assertThat(tracker.row(7, tuple("k", "v"), null, null).get("new"))
        .isEqualTo(SqliteValue.of("v"));
  }

  @Test
  void unchangedToastedColumnsComeFromTheFullOldRowOrAreListed() throws Exception {
    tracker.relation(relation(7, "todos", 'd', key("id", 25), col("big", 25)));
    SourceRow fullOld = tracker.row(7, tuple("k", "old text"), null, null);

    Set<String> unchanged = new LinkedHashSet<>();
    SourceRow filled = tracker.row(7, tuple("k", "\u0000u"), fullOld, unchanged);
    assertThat(filled.get("big")).isEqualTo(SqliteValue.of("old text"));
    assertThat(unchanged).isEmpty();

    SourceRow listed = tracker.row(7, tuple("k", "\u0000u"), null, unchanged);
    assertThat(listed.get("big")).isEqualTo(SqliteValue.NULL);
    assertThat(unchanged).containsExactly("big");
  }

  @Test
  void aTupleWithoutItsRelationIsAProtocolError() throws Exception {
    assertThatThrownBy(() -> tracker.row(9, tuple("x"), null, null))
        .isInstanceOfSatisfying(
            SynclineException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.SOURCE_PROTOCOL));
    tracker.relation(relation(7, "todos", 'd', key("id", 25)));
    assertThatThrownBy(() -> tracker.row(7, tuple("x", "y"), null, null))
        .isInstanceOf(SynclineException.class);
  }

  @Test
  void savedRelationsComeBackAfterAStreamedTransactionsOwn() throws Exception {
    tracker.relation(relation(7, "todos", 'd', key("id", 25)));
    RelationTracker.Saved saved = tracker.save();
    tracker.relation(relation(7, "todos", 'd', key("id", 25), col("extra", 25)));
    assertThat(tracker.row(7, tuple("k", "e"), null, null).columns()).hasSize(2);

    tracker.restore(saved);

    assertThat(tracker.row(7, tuple("k"), null, null).get("id")).isEqualTo(SqliteValue.of("k"));
  }

  @Test
  void tablesFoundOutsideTheStreamAreAddedAndForgotten() {
    TableInfo t =
        new TableInfo(TODOS_REF, 3, List.of("id"), List.of(25), List.of("id"), 'd', 0, NO_IMAGES);
    RelationTracker withTable =
        new RelationTracker(List.of(TODOS), List.of(t), new PgValues(PgType::scalar), catalog);

    assertThat(withTable.knows(3)).isTrue();
    assertThat(withTable.relationIds()).containsExactly(3);
    assertThat(withTable.forget(3)).isEqualTo(t);
    assertThat(withTable.knows(3)).isFalse();
    assertThat(withTable.forget(3)).isNull();
  }

  @Test
  void keyOfPrefersTheMessageTheCatalogOnlyOrders() {
    assertThat(RelationTracker.keyOf('d', List.of("a"), List.of("b"))).containsExactly("a");
    assertThat(RelationTracker.keyOf('i', List.of("a", "b"), List.of("b", "a")))
        .containsExactly("b", "a");
    assertThat(RelationTracker.keyOf('d', List.of(), List.of("id"))).containsExactly("id");
    assertThat(RelationTracker.keyOf('f', List.of("id", "n"), List.of("id"))).containsExactly("id");
    assertThat(RelationTracker.keyOf('n', List.of(), List.of("id"))).isEmpty();
  }
}
