package dev.syncline.core.storage;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.spi.storage.RulesVersion;
import java.util.List;
import org.jooq.Record;
import org.jooq.Table;
import org.jooq.impl.DSL;

/**
 * The rules versions a storage holds: adds them, lists them, activates one, drops one with all its
 * data. Any thread.
 */
final class JdbcRulesVersions extends JdbcStoragePart {

  JdbcRulesVersions(JdbcStoragePart tables) {
    super(tables);
  }

  public RulesVersion addRulesVersion(String content) {
    return transaction(
        dsl -> {
          Long max = dsl.select(DSL.max(ID)).from(rules).fetchOne(0, Long.class);
          long id = max == null ? 1 : max + 1;
          dsl.insertInto(rules)
              .columns(ID, CONTENT, STATE, LAST_OP)
              .values(id, content, RulesVersion.State.PROCESSING.name(), 0L)
              .execute();
          dsl.insertInto(locks).columns(VERSION, OWNER).values(id, "").execute();
          return new RulesVersion(id, content, RulesVersion.State.PROCESSING);
        });
  }

  public List<RulesVersion> rulesVersions() {
    return read(
        dsl ->
            dsl.select(ID, CONTENT, STATE)
                .from(rules)
                .orderBy(ID)
                .fetch(
                    r ->
                        new RulesVersion(
                            r.get(ID), r.get(CONTENT), RulesVersion.State.valueOf(r.get(STATE)))));
  }

  public void activate(long versionId) {
    transaction(
        dsl -> {
          requireVersion(dsl, versionId);
          dsl.update(rules)
              .set(STATE, RulesVersion.State.RETIRED.name())
              .where(STATE.eq(RulesVersion.State.ACTIVE.name()).and(ID.ne(versionId)))
              .execute();
          dsl.update(rules)
              .set(STATE, RulesVersion.State.ACTIVE.name())
              .where(ID.eq(versionId))
              .execute();
          return null;
        });
  }

  public void drop(long versionId) {
    transaction(
        dsl -> {
          String state = dsl.select(STATE).from(rules).where(ID.eq(versionId)).fetchOne(STATE);
          if (state == null) {
            throw unknownVersion(versionId);
          }
          if (state.equals(RulesVersion.State.ACTIVE.name())) {
            throw new SynclineException(
                ErrorCode.INVALID_ARGUMENT,
                "rules version "
                    + versionId
                    + " is active; activate another version before dropping it");
          }
          for (Table<Record> t : List.of(bucketData, currentData, parameters, snapshots, locks)) {
            dsl.deleteFrom(t).where(VERSION.eq(versionId)).execute();
          }
          dsl.deleteFrom(rules).where(ID.eq(versionId)).execute();
          return null;
        });
  }
}
