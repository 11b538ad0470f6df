package dev.syncline.api.upload;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Decides what to do with an uploaded write given the row's current state. Called inside the
 * upload's database transaction with the row locked, on the thread that applies the upload.
 */
@FunctionalInterface
public interface ConflictResolver {
  /**
   * Decides the outcome of one write.
   *
   * @param entry the write
   * @param current the row as stored now (column name to JDBC value), {@code null} when it does not
   *     exist
   */
  Resolution resolve(CrudEntry entry, @Nullable Map<String, @Nullable Object> current);

  /**
   * The default: the upload wins. {@code PUT} inserts or replaces the uploaded columns, {@code
   * PATCH} updates the uploaded columns of an existing row (a row deleted meanwhile stays deleted:
   * skipped), {@code DELETE} deletes.
   */
  static ConflictResolver lastWriteWins() {
    return (entry, current) ->
        entry.op() == CrudEntry.Op.PATCH && current == null
            ? Resolution.skip()
            : Resolution.apply();
  }

  /**
   * Rejects writes that contradict the row's state: {@code PUT} of a row that already exists,
   * {@code PATCH} or {@code DELETE} of a row that does not.
   */
  static ConflictResolver rejectConflicts() {
    return (entry, current) ->
        switch (entry.op()) {
          case PUT ->
              current == null
                  ? Resolution.apply()
                  : Resolution.reject("row " + entry.id() + " already exists");
          case PATCH, DELETE ->
              current != null
                  ? Resolution.apply()
                  : Resolution.reject("row " + entry.id() + " does not exist");
        };
  }

  /** What to do with one write. */
  sealed interface Resolution {
    /** Writes the entry as uploaded. */
    static Resolution apply() {
      return Apply.AS_UPLOADED;
    }

    /**
     * Writes the entry with other column values (merged by the resolver), e.g. a field-level merge.
     */
    static Resolution apply(Map<String, @Nullable Object> data) {
      return new Apply(
          Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(data))));
    }

    /** Leaves the row as it is; the rest of the batch is applied. */
    static Resolution skip() {
      return Skip.INSTANCE;
    }

    /** Rejects the whole batch with {@code UPLOAD_CONFLICT}. */
    static Resolution reject(String reason) {
      return new Reject(reason);
    }
  }

  /** Write the entry; {@code data} replaces the uploaded data when not {@code null}. */
  record Apply(@Nullable Map<String, @Nullable Object> data) implements Resolution {
    static final Apply AS_UPLOADED = new Apply(null);
  }

  /** Leave the row as it is. */
  enum Skip implements Resolution {
    /** The only value. */
    INSTANCE
  }

  /** Reject the batch. */
  record Reject(String reason) implements Resolution {
    /** Validates. */
    public Reject {
      Objects.requireNonNull(reason, "reason");
    }
  }
}
