package dev.syncline.api.auth;

/**
 * Verifies a client's bearer token. Called on the request thread; may block briefly (e.g. fetching a JWKS).
 * Implementations are thread-safe.
 */
@FunctionalInterface
public interface TokenVerifier {
  /**
   * Verifies {@code token} (the text after {@code Token } or {@code Bearer }).
   *
   * @throws dev.syncline.api.SynclineException with an {@code AUTH_*} error code when the token is not acceptable
   */
  AuthContext verify(String token);
}
