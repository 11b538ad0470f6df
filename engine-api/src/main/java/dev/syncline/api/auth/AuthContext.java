package dev.syncline.api.auth;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A verified token: its claims and when it expires.
 *
 * @param claims the token payload as JSON values ({@code null}, {@link String}, {@link Number}, {@link Boolean},
 *     {@link java.util.List}, {@link Map}), in order
 * @param expiresAt the {@code exp} claim
 */
public record AuthContext(Map<String, @Nullable Object> claims, Instant expiresAt) {
  /** Copies the claims. */
  public AuthContext {
    claims = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(claims, "claims")));
    Objects.requireNonNull(expiresAt, "expiresAt");
  }

  /** The {@code sub} claim as text ({@code "null"} when absent), as write checkpoints key users. */
  public String userKey() {
    return String.valueOf(claims.get("sub"));
  }
}
