package dev.syncline.postgres.internal;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The messages of one large in-progress transaction that Postgres streams before it commits
 * (pgoutput protocol 2), kept until its {@code StreamCommit} (then replayed in order) or {@code
 * StreamAbort} (then dropped). Messages of aborted subtransactions are left out of the replay. Held
 * in memory up to a limit, then in a temporary file that is deleted when the spool is closed. Used
 * by the replication thread only.
 */
public final class TransactionSpool implements AutoCloseable {
  private final int topXid;
  private final long memoryLimit;
  private final List<byte[]> messages = new ArrayList<>();
  private final List<Integer> xids = new ArrayList<>();
  private final Set<Integer> abortedSubtransactions = new HashSet<>();
  private long bytes;
  private @Nullable Path file;
  private @Nullable DataOutputStream out;

  /** A spool for a top-level transaction, keeping up to {@code memoryLimit} bytes in memory. */
  public TransactionSpool(int topXid, long memoryLimit) {
    this.topXid = topXid;
    this.memoryLimit = memoryLimit;
  }

  /** The top-level transaction id. */
  public int topXid() {
    return topXid;
  }

  /** Keeps one message (its raw bytes) of (sub)transaction {@code xid}. */
  public void add(int xid, ByteBuffer message) {
    byte[] copy = new byte[message.remaining()];
    message.duplicate().get(copy);
    try {
      if (out == null && bytes + copy.length > memoryLimit) {
        file =
            Files.createTempFile("syncline-tx-" + Integer.toUnsignedString(topXid) + "-", ".spool");
        out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16));
        for (int i = 0; i < messages.size(); i++) {
          write(xids.get(i), messages.get(i));
        }
        messages.clear();
        xids.clear();
      }
      bytes += copy.length;
      if (out != null) {
        write(xid, copy);
      } else {
        messages.add(copy);
        xids.add(xid);
      }
    } catch (IOException e) {
      throw new SynclineException(
          ErrorCode.SOURCE_UNAVAILABLE, "cannot spool a large transaction to disk: " + e, e);
    }
  }

  private void write(int xid, byte[] message) throws IOException {
    DataOutputStream o = Objects.requireNonNull(out, "written only after spilling opened the file");
    o.writeInt(xid);
    o.writeInt(message.length);
    o.write(message);
  }

  /** A subtransaction was rolled back: its messages are not replayed. */
  public void abortSubtransaction(int subXid) {
    abortedSubtransactions.add(subXid);
  }

  /** Bytes spooled so far. */
  public long bytes() {
    return bytes;
  }

  /** Whether the spool moved to disk. */
  public boolean onDisk() {
    return file != null;
  }

  /** Replays the messages of committed (sub)transactions, in the order they arrived. */
  public void replay(Consumer<ByteBuffer> consumer) {
    if (out == null) {
      for (int i = 0; i < messages.size(); i++) {
        if (!abortedSubtransactions.contains(xids.get(i))) {
          consumer.accept(ByteBuffer.wrap(messages.get(i)));
        }
      }
      return;
    }
    try {
      out.close();
      try (DataInputStream in =
          new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
        while (true) {
          int xid;
          try {
            xid = in.readInt();
          } catch (EOFException end) {
            break;
          }
          byte[] message = new byte[in.readInt()];
          in.readFully(message);
          if (!abortedSubtransactions.contains(xid)) {
            consumer.accept(ByteBuffer.wrap(message));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Deletes the temporary file, if any. */
  @Override
  public void close() {
    try {
      if (out != null) {
        out.close();
      }
      if (file != null) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      // A leftover temporary file is harmless.
    }
  }
}
