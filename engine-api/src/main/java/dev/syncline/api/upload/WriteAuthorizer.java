package dev.syncline.api.upload;

import dev.syncline.api.auth.AuthContext;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Decides whether a user may make one uploaded write. Called inside the upload's database
 * transaction, after the row's current state was read and locked, on the thread that applies the
 * upload.
 */
@FunctionalInterface
public interface WriteAuthorizer {
  /**
   * Decides whether one write is allowed.
   *
   * @param user the verified token of the uploading user (never the upload body's word)
   * @param entry the write
   * @param current the row as stored now (column name to JDBC value), {@code null} when it does not
   *     exist
   * @param transaction the upload's transaction, to read other rows (e.g. a list's sharing); do not
   *     commit, roll back or close it
   * @return whether the write is allowed; a denied write rejects the whole batch with {@code
   *     UPLOAD_FORBIDDEN}
   * @throws java.sql.SQLException when reading fails; the upload is then retried later
   */
  boolean allows(
      AuthContext user,
      CrudEntry entry,
      @Nullable Map<String, @Nullable Object> current,
      Connection transaction)
      throws SQLException;

  /** Allows every write to an allowed table: only for development. */
  static WriteAuthorizer allowAll() {
    return (user, entry, current, transaction) -> true;
  }
}
