package dev.syncline.testkit;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Objects;

/**
 * Mints HS256 tokens for tests, matching a {@code JwtTokenVerifier} configured with the same secret
 * and audience:
 *
 * <pre>{@code
 * TestTokens tokens = TestTokens.hs256(secret, "my-audience");
 * ProtocolClient client = ProtocolClient.connect(base, tokens.forUser("alice"));
 * }</pre>
 *
 * <p>For tests only: real tokens come from the application's identity provider. Immutable and
 * thread-safe.
 */
public final class TestTokens {
  private final byte[] secret;
  private final String audience;

  private TestTokens(byte[] secret, String audience) {
    if (secret.length < 32) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT, "an HS256 secret needs at least 32 bytes");
    }
    this.secret = secret.clone();
    this.audience = Objects.requireNonNull(audience);
  }

  /** Tokens signed with {@code secret} (at least 32 bytes) for {@code audience}. */
  public static TestTokens hs256(byte[] secret, String audience) {
    return new TestTokens(secret, audience);
  }

  /** A token for {@code userId} valid for one hour. */
  public String forUser(String userId) {
    return forUser(userId, Duration.ofHours(1));
  }

  /** A token for {@code userId} valid for {@code lifetime}. */
  public String forUser(String userId, Duration lifetime) {
    return forUser(userId, lifetime, Map.of());
  }

  /**
   * A token for {@code userId} valid for {@code lifetime}, with further claims (e.g. for {@code
   * request.jwt()}).
   */
  public String forUser(String userId, Duration lifetime, Map<String, Object> claims) {
    Instant now = Instant.now();
    JWTClaimsSet.Builder b =
        new JWTClaimsSet.Builder()
            .subject(userId)
            .audience(audience)
            .issueTime(Date.from(now))
            .expirationTime(Date.from(now.plus(lifetime)));
    claims.forEach(b::claim);
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), b.build());
    try {
      jwt.sign(new MACSigner(secret));
    } catch (JOSEException e) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT, "cannot sign a test token: " + e.getMessage(), e);
    }
    return jwt.serialize();
  }

  /**
   * A token whose payload is exactly {@code payloadJson}, signed with this secret: for testing what
   * a verifier refuses (a {@code "sub": null}, a numeric {@code sub}, a missing {@code exp}...).
   * Nothing is added or checked.
   */
  public String signed(String payloadJson) {
    JWSObject jws = new JWSObject(new JWSHeader(JWSAlgorithm.HS256), new Payload(payloadJson));
    try {
      jws.sign(new MACSigner(secret));
    } catch (JOSEException e) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT, "cannot sign a test token: " + e.getMessage(), e);
    }
    return jws.serialize();
  }

  /** The audience these tokens name. */
  public String audience() {
    return audience;
  }
}
