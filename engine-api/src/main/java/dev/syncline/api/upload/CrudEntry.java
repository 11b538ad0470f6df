package dev.syncline.api.upload;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One write from a client's upload queue, as the PowerSync SDKs record it ({@code CrudEntry}).
 *
 * @param op what the client did
 * @param table the table the client wrote (the client-side view name)
 * @param id the row's id
 * @param data for {@code PUT} the whole row, for {@code PATCH} the changed columns, for {@code
 *     DELETE} empty; values as JSON gives them ({@code null}, {@link String}, {@link Long}, {@link
 *     Double}, {@link Boolean}, or a nested {@link Map}/{@link java.util.List} for JSON columns),
 *     without the {@code id} column
 */
public record CrudEntry(Op op, String table, String id, Map<String, @Nullable Object> data) {
  /** What a client did to a row. */
  public enum Op {
    /** Created or replaced the row (the data is the whole row). */
    PUT,
    /** Updated some columns (the data holds only those). */
    PATCH,
    /** Deleted the row. */
    DELETE
  }

  /** Validates and copies. */
  public CrudEntry(Op op, String table, String id, Map<String, @Nullable Object> data) {
    // An explicit canonical constructor: javac records a compact one's type-use annotations (the
    // maps' @Nullable
    // values) as field annotations, so nullness checkers reading the class file would see non-null
    // values.
    this.op = Objects.requireNonNull(op, "op");
    this.table = Objects.requireNonNull(table, "table");
    this.id = Objects.requireNonNull(id, "id");
    this.data =
        Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(data, "data")));
  }
}
