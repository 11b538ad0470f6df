package dev.syncline.examples.todo;

import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.upload.CrudEntry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The todo app's write authorization, the uploads' counterpart of its sync rules: the todo server
 * and the Spring Boot example both use it. Stateless.
 */
public final class TodoAuthorizer {
  private TodoAuthorizer() {}

  /**
   * Who may write what: a user creates lists they own, changes and deletes only their own lists and
   * never gives them away (the owner stays the same user: a list one user wrote cannot appear in
   * another's account), and writes todos of lists they own or that are shared with them (moving a
   * todo needs access to both lists), in their own name ({@code created_by} and {@code
   * completed_by} name the writer or stay as they were). A {@link
   * dev.syncline.api.upload.WriteAuthorizer}.
   */
  public static boolean mayWrite(
      AuthContext user,
      CrudEntry entry,
      @Nullable Map<String, @Nullable Object> current,
      Connection tx)
      throws SQLException {
    String me = user.userId();
    Map<String, @Nullable Object> data = entry.data();
    switch (entry.table()) {
      case "lists" -> {
        // Whatever the operation, an owner written is the writer: no list is created in, or moved
        // to, another
        // user's name, nor to none.
        if (data.containsKey("owner_id") && !me.equals(data.get("owner_id"))) {
          return false;
        }
        if (current == null) {
          // Creating: only in one's own name. Changing or deleting a list that is gone: nothing to
          // protect (the
          // conflict policy skips it), and denying would make the client discard the rest of its
          // transaction.
          return entry.op() != CrudEntry.Op.PUT || me.equals(data.get("owner_id"));
        }
        return me.equals(current.get("owner_id"));
      }
      case "todos" -> {
        Object before = current == null ? null : current.get("list_id");
        Object after = data.get("list_id");
        if (before == null && after == null) {
          return entry.op()
              != CrudEntry.Op.PUT; // a todo that is gone: nothing to protect, the policy skips it
        }
        if (!ownName(data, "created_by", me, current)
            || !ownName(data, "completed_by", me, current)) {
          return false;
        }
        return (before == null || canAccess(tx, before.toString(), me))
            && (after == null || canAccess(tx, after.toString(), me));
      }
      default -> {
        return false;
      }
    }
  }

  /**
   * Whether {@code column} of an upload names its writer, is cleared, or keeps what the row had.
   */
  private static boolean ownName(
      Map<String, @Nullable Object> data,
      String column,
      String me,
      @Nullable Map<String, @Nullable Object> current) {
    if (!data.containsKey(column)) {
      return true;
    }
    Object value = data.get(column);
    return value == null
        || me.equals(value)
        || (current != null && Objects.equals(value, current.get(column)));
  }

  private static boolean canAccess(Connection tx, String listId, String user) throws SQLException {
    try (PreparedStatement s =
        tx.prepareStatement(
            "SELECT 1 FROM lists l WHERE l.id::text = ? AND (l.owner_id = ? "
                + "OR EXISTS (SELECT 1 FROM list_shares s WHERE s.list_id = l.id AND s.user_id = ?))")) {
      s.setString(1, listId);
      s.setString(2, user);
      s.setString(3, user);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next();
      }
    }
  }
}
