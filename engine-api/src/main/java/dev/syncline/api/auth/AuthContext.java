package dev.syncline.api.auth;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A verified token: its claims and when it expires.
 *
 * <p>The user is always unambiguous: the {@code sub} claim must be a non-empty string of at most
 * {@link #MAX_USER_ID_LENGTH} characters without NUL characters. A token verifier that produces
 * anything else (a missing, {@code null}, numeric or empty {@code sub}) is refused here with {@code
 * AUTH_INVALID} (HTTP 401), so no request can act as the user named {@code "null"}, {@code ""} or
 * {@code "42"} by accident.
 *
 * @param claims the token payload as JSON values ({@code null}, {@link String}, {@link Number},
 *     {@link Boolean}, {@link java.util.List}, {@link Map}), in order
 * @param expiresAt the {@code exp} claim
 */
public record AuthContext(Map<String, @Nullable Object> claims, Instant expiresAt) {
  /**
   * Longest accepted user id ({@code sub}), in characters: user ids are stored as keys of write
   * checkpoints and of the upload handler's idempotency records, which must fit a database index
   * entry.
   */
  public static final int MAX_USER_ID_LENGTH = 512;

  /**
   * Copies the claims and checks the user id.
   *
   * @throws SynclineException with {@code AUTH_INVALID} when {@code sub} is not a non-empty string
   *     of at most {@link #MAX_USER_ID_LENGTH} characters without NUL
   */
  public AuthContext(Map<String, @Nullable Object> claims, Instant expiresAt) {
    // An explicit canonical constructor: javac records a compact one's type-use annotations (the
    // maps' @Nullable
    // values) as field annotations, so nullness checkers reading the class file would see non-null
    // values.
    this.claims =
        Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(claims, "claims")));
    this.expiresAt = Objects.requireNonNull(expiresAt, "expiresAt");
    checkUserId(this.claims.get("sub"));
  }

  private static void checkUserId(@Nullable Object sub) {
    if (!(sub instanceof String s) || s.isEmpty()) {
      throw new SynclineException(
          ErrorCode.AUTH_INVALID, "JWT payload \"sub\" must be a non-empty string");
    }
    if (s.length() > MAX_USER_ID_LENGTH) {
      throw new SynclineException(
          ErrorCode.AUTH_INVALID,
          "JWT payload \"sub\" is longer than " + MAX_USER_ID_LENGTH + " characters");
    }
    if (s.indexOf('\0') >= 0) {
      throw new SynclineException(
          ErrorCode.AUTH_INVALID, "JWT payload \"sub\" must not contain NUL characters");
    }
  }

  /** The user: the {@code sub} claim, a non-empty string. */
  public String userId() {
    return (String) Objects.requireNonNull(claims.get("sub"));
  }
}
