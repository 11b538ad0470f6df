package dev.syncline.core.storage;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import org.jooq.exception.DataAccessException;
import org.jooq.impl.DSL;

/**
 * The replication lock of a rules version: one writer at a time across all instances sharing the
 * storage. Held by a connection of its own (a Postgres advisory lock; on H2 a row lock in an open
 * transaction), so it dies with the connection; the holder names itself, with a nonce, in the
 * version's rules row, which is what fences its writes ({@link JdbcOpLogWriter}). Any thread.
 */
final class JdbcReplicationLock extends JdbcStoragePart {
  /**
   * A lock acquired: its connection, the holder's token in the rules row, and the version's last op
   * id then.
   */
  record Held(Connection connection, String token, long lastOp) {}

  JdbcReplicationLock(JdbcStoragePart tables) {
    super(tables);
  }

  /** Who holds the lock of a version now (as it named itself), if anyone. */
  public Optional<String> replicator(long versionId) {
    return read(
        dsl -> {
          requireVersion(dsl, versionId);
          String owner =
              dsl.select(REPLICATOR).from(rules).where(ID.eq(versionId)).fetchOne(REPLICATOR);
          return owner == null || owner.isEmpty()
              ? Optional.<String>empty()
              : Optional.of(identityOf(owner));
        });
  }

  private boolean acquireLock(Connection c, long versionId, String replicator) throws SQLException {
    boolean locked =
        db.tryLock(
            c,
            lockNamespace(),
            versionId,
            held ->
                DSL.using(held, dialect)
                    .update(locks)
                    .set(OWNER, replicator)
                    .where(VERSION.eq(versionId))
                    .execute());
    if (locked) {
      // Others read the holder's identity from the rules row.
      transaction(
          dsl -> dsl.update(rules).set(REPLICATOR, replicator).where(ID.eq(versionId)).execute());
    }
    return locked;
  }

  /**
   * The identity part of a writer's token ({@code "host/pid [1a2b3c4d]"} is {@code "host/pid"}).
   */
  private static String identityOf(String token) {
    return token.matches(".* \\[[0-9a-f]{8}\\]") ? token.substring(0, token.length() - 11) : token;
  }

  private static String clip(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }

  /**
   * Takes the lock of a version for {@code replicator}, naming it in the rules row.
   *
   * @throws SynclineException {@code REPLICATION_LOCKED} when another writer holds it
   */
  Held acquire(long versionId, String replicator) {
    read(
        dsl -> {
          requireVersion(dsl, versionId);
          return null;
        });
    Connection lockConnection = null;
    try {
      lockConnection = dataSource.getConnection();
      // What this writer writes into the rules row: its identity and a nonce of its own (see
      // JdbcOpLogWriter#fenced).
      String token =
          clip(replicator, 180) + " [" + UUID.randomUUID().toString().substring(0, 8) + "]";
      if (!acquireLock(lockConnection, versionId, token)) {
        lockConnection.close();
        String holder = replicator(versionId).orElse("another engine instance");
        throw new SynclineException(
            ErrorCode.REPLICATION_LOCKED,
            "rules version "
                + versionId
                + " is being replicated by "
                + holder
                + ", which holds its lock");
      }
      // Read after the rules row names this writer: a commit of the previous writer either landed
      // before (and is
      // counted here) or fails its fence.
      long lastOp =
          Objects.requireNonNull(
              read(
                  dsl ->
                      dsl.select(LAST_OP)
                          .from(rules)
                          .where(ID.eq(versionId))
                          .fetchSingle(LAST_OP)));
      return new Held(lockConnection, token, lastOp);
    } catch (SQLException | DataAccessException e) {
      closeQuietly(lockConnection);
      throw new SynclineException(
          ErrorCode.STORAGE_FAILED, "cannot acquire the replication lock: " + e.getMessage(), e);
    }
  }

  /** Lets go of a lock {@link #acquire} took, closing its connection. */
  void release(Connection connection, long versionId) {
    try {
      db.unlock(connection, lockNamespace(), versionId);
    } catch (SQLException | DataAccessException e) {
      // The lock ends with the connection anyway.
    } finally {
      closeQuietly(connection);
    }
  }
}
