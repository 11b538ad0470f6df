package dev.syncline.core.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.Ed25519Signer;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetKeyPairGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class JwtTokenVerifierTest {
  static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");
  static final InstantSource CLOCK = InstantSource.fixed(NOW);
  static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);

  static JWTClaimsSet.Builder claims() {
    return new JWTClaimsSet.Builder()
        .subject("u1")
        .audience("app")
        .issueTime(Date.from(NOW))
        .expirationTime(Date.from(NOW.plusSeconds(3600)));
  }

  static String sign(JWSSigner signer, JWSAlgorithm alg, String kid, JWTClaimsSet claims)
      throws JOSEException {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).build(), claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  static JwtTokenVerifier.Builder hmacVerifier() {
    return JwtTokenVerifier.builder().audience("app").hmacSecret(SECRET, null).clock(CLOCK);
  }

  static String hmac(JWTClaimsSet claims) throws JOSEException {
    return sign(new MACSigner(SECRET), JWSAlgorithm.HS256, null, claims);
  }

  static ErrorCode codeOf(Runnable r) {
    try {
      r.run();
    } catch (SynclineException e) {
      return e.code();
    }
    throw new AssertionError("expected a SynclineException");
  }

  @Test
  void every_supported_algorithm_verifies() throws Exception {
    RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa").generate();
    ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec").generate();
    OctetKeyPair ed = new OctetKeyPairGenerator(Curve.Ed25519).keyID("ed").generate();
    JwtTokenVerifier verifier =
        JwtTokenVerifier.builder()
            .audience("app")
            .clock(CLOCK)
            .jwks(
                new JWKSet(List.of(rsa.toPublicJWK(), ec.toPublicJWK(), ed.toPublicJWK()))
                    .toString())
            .hmacSecret(SECRET, "hs")
            .build();
    JWTClaimsSet c = claims().build();
    for (String token :
        List.of(
            sign(new RSASSASigner(rsa), JWSAlgorithm.RS256, "rsa", c),
            sign(new RSASSASigner(rsa), JWSAlgorithm.PS384, "rsa", c),
            sign(new ECDSASigner(ec), JWSAlgorithm.ES256, "ec", c),
            sign(new Ed25519Signer(ed), JWSAlgorithm.EdDSA, "ed", c),
            sign(new MACSigner(SECRET), JWSAlgorithm.HS256, "hs", c))) {
      AuthContext auth = verifier.verify(token);
      assertThat(auth.claims()).containsEntry("sub", "u1");
      assertThat(auth.expiresAt()).isEqualTo(NOW.plusSeconds(3600));
    }
  }

  @Test
  void claims_reach_the_rules_as_json_values() throws Exception {
    AuthContext auth =
        hmacVerifier()
            .build()
            .verify(
                hmac(
                    claims()
                        .claim("parameters", Map.of("org", "o1"))
                        .claim("role", "admin")
                        .build()));
    assertThat(auth.claims())
        .containsEntry("role", "admin")
        .containsEntry("parameters", Map.of("org", "o1"));
    assertThat(auth.userId()).isEqualTo("u1");
  }

  @Test
  void expired_tokens_are_rejected_after_the_clock_tolerance() throws Exception {
    String expired =
        hmac(
            claims()
                .issueTime(Date.from(NOW.minusSeconds(3600)))
                .expirationTime(Date.from(NOW.minusSeconds(61)))
                .build());
    String justExpired =
        hmac(
            claims()
                .issueTime(Date.from(NOW.minusSeconds(3600)))
                .expirationTime(Date.from(NOW.minusSeconds(30)))
                .build());
    assertThat(codeOf(() -> hmacVerifier().build().verify(expired)))
        .isEqualTo(ErrorCode.AUTH_EXPIRED);
    assertThat(hmacVerifier().build().verify(justExpired).claims()).containsKey("sub");
  }

  @Test
  void claims_are_checked_with_the_protocols_codes() throws Exception {
    JwtTokenVerifier v = hmacVerifier().build();
    assertThat(
            codeOf(
                () ->
                    v.verify(
                        sneaky(
                            () ->
                                hmac(
                                    claims()
                                        .expirationTime(Date.from(NOW.plus(Duration.ofDays(2))))
                                        .build())))))
        .isEqualTo(ErrorCode.AUTH_LIFETIME);
    assertThat(codeOf(() -> v.verify(sneaky(() -> hmac(claims().audience("other").build())))))
        .isEqualTo(ErrorCode.AUTH_AUDIENCE);
    assertThat(codeOf(() -> v.verify(sneaky(() -> hmac(claims().audience((String) null).build())))))
        .isEqualTo(ErrorCode.AUTH_AUDIENCE);
    assertThat(codeOf(() -> v.verify(sneaky(() -> hmac(claims().subject(null).build())))))
        .isEqualTo(ErrorCode.AUTH_INVALID);
    assertThat(codeOf(() -> v.verify(sneaky(() -> hmac(claims().issueTime(null).build())))))
        .isEqualTo(ErrorCode.AUTH_INVALID);
    assertThat(
            codeOf(
                () -> v.verify(sneaky(() -> hmac(claims().claim("parameters", "nope").build())))))
        .isEqualTo(ErrorCode.AUTH_INVALID);
    assertThat(codeOf(() -> v.verify(""))).isEqualTo(ErrorCode.AUTH_REQUIRED);
    assertThat(codeOf(() -> v.verify("not.a.jwt"))).isEqualTo(ErrorCode.AUTH_INVALID);
    // An unsigned token ("alg": "none") is not accepted.
    assertThat(codeOf(() -> v.verify("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9.")))
        .isEqualTo(ErrorCode.AUTH_INVALID);
  }

  /**
   * The user is a non-empty string, as the token carries it: a null, missing, empty, numeric,
   * boolean, array or object {@code sub} is refused (the JWT library would have turned a number
   * into text: {@code 42} and {@code "42"} would be one user).
   */
  @Test
  void the_subject_must_be_a_non_empty_string_in_the_token_itself() throws Exception {
    JwtTokenVerifier verifier = hmacVerifier().build();
    String times =
        "\"aud\":\"app\",\"iat\":"
            + NOW.getEpochSecond()
            + ",\"exp\":"
            + (NOW.getEpochSecond() + 60);
    for (String sub :
        List.of(
            "\"sub\":null,",
            "",
            "\"sub\":\"\",",
            "\"sub\":42,",
            "\"sub\":4.2,",
            "\"sub\":true,",
            "\"sub\":[\"u1\"],",
            "\"sub\":{\"id\":\"u1\"},",
            "\"sub\":\"a\\u0000b\",",
            "\"sub\":\"" + "x".repeat(AuthContext.MAX_USER_ID_LENGTH + 1) + "\",")) {
      JWSObject jws =
          new JWSObject(new JWSHeader(JWSAlgorithm.HS256), new Payload("{" + sub + times + "}"));
      jws.sign(new MACSigner(SECRET));
      assertThatThrownBy(() -> verifier.verify(jws.serialize()))
          .as(sub.length() > 60 ? "a long sub" : sub)
          .isInstanceOfSatisfying(
              SynclineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_INVALID));
    }
    assertThat(
            verifier
                .verify(
                    sign(
                        new MACSigner(SECRET),
                        JWSAlgorithm.HS256,
                        null,
                        claims().subject("42").build()))
                .userId())
        .as("a string of digits is a string")
        .isEqualTo("42");
  }

  @Test
  void a_wrong_signature_or_unknown_key_is_rejected() throws Exception {
    String other =
        sign(
            new MACSigner("ffffffffffffffffffffffffffffffff".getBytes(StandardCharsets.UTF_8)),
            JWSAlgorithm.HS256,
            null,
            claims().build());
    assertThat(codeOf(() -> hmacVerifier().build().verify(other)))
        .isEqualTo(ErrorCode.AUTH_SIGNATURE);
    String unknownKid = sign(new MACSigner(SECRET), JWSAlgorithm.HS256, "nope", claims().build());
    JwtTokenVerifier withKid =
        JwtTokenVerifier.builder().audience("app").hmacSecret(SECRET, "hs").clock(CLOCK).build();
    assertThat(codeOf(() -> withKid.verify(unknownKid))).isEqualTo(ErrorCode.AUTH_INVALID);
    RSAKey rsa = new RSAKeyGenerator(2048).keyID("hs").generate();
    String wrongFamily = sign(new RSASSASigner(rsa), JWSAlgorithm.RS256, "hs", claims().build());
    assertThat(codeOf(() -> withKid.verify(wrongFamily))).isEqualTo(ErrorCode.AUTH_INVALID);
  }

  @Test
  void jwks_uris_are_fetched_cached_and_refetched_for_a_new_kid() throws Exception {
    RSAKey first = new RSAKeyGenerator(2048).keyID("k1").generate();
    RSAKey second = new RSAKeyGenerator(2048).keyID("k2").generate();
    AtomicReference<String> served =
        new AtomicReference<>(new JWKSet(first.toPublicJWK()).toString());
    AtomicInteger fetches = new AtomicInteger();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/jwks.json",
        exchange -> {
          fetches.incrementAndGet();
          byte[] body = served.get().getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    try {
      AtomicReference<Instant> now = new AtomicReference<>(NOW);
      JwtTokenVerifier v =
          JwtTokenVerifier.builder()
              .audience("app")
              .clock(now::get)
              .jwksUri(
                  URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json"))
              .build();
      v.verify(sign(new RSASSASigner(first), JWSAlgorithm.RS256, "k1", claims().build()));
      v.verify(sign(new RSASSASigner(first), JWSAlgorithm.RS256, "k1", claims().build()));
      assertThat(fetches.get()).isEqualTo(1);
      // Key rotation: a token with a new kid makes the verifier refetch (not more often than every
      // 30 s).
      served.set(new JWKSet(List.of(first.toPublicJWK(), second.toPublicJWK())).toString());
      now.set(NOW.plusSeconds(31));
      JWTClaimsSet later = claims().issueTime(Date.from(now.get())).build();
      v.verify(sign(new RSASSASigner(second), JWSAlgorithm.RS256, "k2", later));
      assertThat(fetches.get()).isEqualTo(2);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void an_unreachable_jwks_uri_is_a_typed_error() throws Exception {
    JwtTokenVerifier v =
        JwtTokenVerifier.builder()
            .audience("app")
            .clock(CLOCK)
            .jwksUri(URI.create("http://127.0.0.1:9/jwks.json"))
            .build();
    RSAKey rsa = new RSAKeyGenerator(2048).keyID("k1").generate();
    String token = sign(new RSASSASigner(rsa), JWSAlgorithm.RS256, "k1", claims().build());
    assertThat(codeOf(() -> v.verify(token)))
        .isIn(ErrorCode.AUTH_KEYS_UNAVAILABLE, ErrorCode.AUTH_INVALID);
  }

  @Test
  void the_builder_reports_every_missing_setting() {
    assertThatThrownBy(() -> JwtTokenVerifier.builder().build())
        .isInstanceOf(SynclineException.class)
        .hasMessageContaining("audience is required")
        .hasMessageContaining("key or JWKS URI is required");
    assertThatThrownBy(() -> JwtTokenVerifier.builder().hmacSecret(new byte[8], null))
        .hasMessageContaining("at least 32 bytes");
    assertThatThrownBy(() -> JwtTokenVerifier.builder().jwksUri(URI.create("file:///etc/keys")))
        .hasMessageContaining("http or https");
  }

  interface ThrowingSupplier {
    String get() throws Exception;
  }

  static String sneaky(ThrowingSupplier s) {
    try {
      return s.get();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
