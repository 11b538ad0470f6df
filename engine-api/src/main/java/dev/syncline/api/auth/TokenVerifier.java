package dev.syncline.api.auth;

import dev.syncline.api.rules.RequestContext;

/**
 * Verifies a client's bearer token. Called on the request thread; may block briefly (e.g. a cached JWKS fetch).
 * Implementations are thread-safe.
 */
@FunctionalInterface
public interface TokenVerifier {
  /**
   * Verifies {@code token} and returns its claims as a request context without client parameters.
   *
   * @throws dev.syncline.api.SynclineException with an authentication error code when the token is not acceptable
   */
  RequestContext verify(String token);
}
