package dev.syncline.core.storage;

import dev.syncline.api.SynclineException;
import dev.syncline.core.internal.storage.CheckpointWatchers;
import dev.syncline.spi.storage.Checkpoint;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;

/**
 * Tells a storage's checkpoint watchers about checkpoints committed by other instances: one daemon
 * thread, started with the first watcher, waits for a Postgres notification (LISTEN) or the poll
 * interval (H2), then lets {@link CheckpointWatchers} read what changed. Checkpoints this instance
 * commits are published by its writer directly. Any thread; {@link #close()} ends the thread.
 */
final class JdbcCheckpointNotifier extends JdbcStoragePart {
  private final JdbcOpLogReader reader;

  /**
   * With Postgres notifications, how often the watcher reads checkpoints anyway (a notification
   * lost in a reconnect).
   */
  private static final long LISTEN_SAFETY_MILLIS = 30_000;

  private final Duration pollInterval;

  /** The watchers of this storage; its writers publish their own commits to them. */
  final CheckpointWatchers watchers = new CheckpointWatchers(this::latestCheckpointIfExists);

  private final Object notifierLock = new Object();

  private @Nullable Thread notifier;

  private volatile boolean closed;

  JdbcCheckpointNotifier(JdbcStoragePart tables, JdbcOpLogReader reader, Duration pollInterval) {
    super(tables);
    this.reader = reader;
    this.pollInterval = pollInterval;
  }

  private Optional<Checkpoint> latestCheckpointIfExists(long versionId) {
    try {
      return reader.latestCheckpoint(versionId);
    } catch (SynclineException e) {
      return Optional.empty();
    }
  }

  public AutoCloseable watchCheckpoints(long versionId, Consumer<Checkpoint> listener) {
    read(
        dsl -> {
          requireVersion(dsl, versionId);
          return null;
        });
    AutoCloseable handle = watchers.add(versionId, listener);
    synchronized (notifierLock) {
      if (notifier == null && !closed) {
        notifier = new Thread(this::notifyLoop, "syncline-checkpoint-watcher-" + prefix);
        notifier.setDaemon(true);
        notifier.start();
      }
    }
    return handle;
  }

  /**
   * The watcher thread: waits for a notification (Postgres LISTEN) or the poll interval, then
   * checks the watched versions. Reconnects after failures; ends when the storage closes.
   */
  private void notifyLoop() {
    while (!closed) {
      try (Connection c = dataSource.getConnection()) {
        PGConnection pg = db.listen(c, channel());
        while (!closed) {
          // Check first: anything committed before LISTEN took effect (or while reconnecting) is
          // caught here.
          watchers.checkAll();
          if (pg != null) {
            // Notifications wake this thread when another instance commits; the timeout is only a
            // safety net.
            pg.getNotifications((int) Math.max(pollInterval.toMillis(), LISTEN_SAFETY_MILLIS));
          } else {
            Thread.sleep(pollInterval.toMillis());
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (SQLException | RuntimeException e) {
        if (closed) {
          return;
        }
        try {
          Thread.sleep(pollInterval.toMillis());
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /**
   * Stops the watcher thread; the data source belongs to the application, which closes it.
   * Idempotent.
   */
  public void close() {
    Thread t;
    synchronized (notifierLock) {
      closed = true;
      t = notifier;
      notifier = null;
    }
    if (t != null) {
      t.interrupt(); // ends a poll's sleep (H2)
      // A thread waiting for notifications does not notice interrupts: wake it with one.
      db.wakeListeners(dataSource, channel());
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
