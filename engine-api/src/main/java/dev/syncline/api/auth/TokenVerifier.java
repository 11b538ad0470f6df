package dev.syncline.api.auth;

import org.jspecify.annotations.Nullable;

/**
 * Verifies a client's bearer token. Called on the request thread; may block briefly (e.g. fetching
 * a JWKS). Implementations are thread-safe.
 */
@FunctionalInterface
public interface TokenVerifier {
  /**
   * Verifies {@code token} (the text after {@code Token } or {@code Bearer }).
   *
   * @throws dev.syncline.api.SynclineException with an {@code AUTH_*} error code when the token is
   *     not acceptable
   */
  AuthContext verify(String token);

  /**
   * Verifies the token of an {@code Authorization} header value, read by {@link
   * AuthorizationHeader#token}: the same parsing the sync endpoints apply, for the app's own
   * endpoints (uploads, say).
   *
   * @throws dev.syncline.api.SynclineException {@code AUTH_REQUIRED} without a {@code
   *     Bearer}/{@code Token} header, another {@code AUTH_*} code when the token is not acceptable
   */
  default AuthContext verifyAuthorization(@Nullable String authorizationHeader) {
    return verify(AuthorizationHeader.token(authorizationHeader));
  }
}
