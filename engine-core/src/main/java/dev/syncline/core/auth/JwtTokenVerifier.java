package dev.syncline.core.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyOperation;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.auth.TokenVerifier;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Verifies JWTs as the PowerSync service does (protocol §6): HS256/384/512, RS256/384/512,
 * PS256/384/512, ES256/384/512 and EdDSA; static keys and JWKS URIs (cached, refreshed after 5
 * minutes, dropped after 60, refetched when a token names an unknown {@code kid}); required {@code
 * sub} (a non-empty string: see {@link AuthContext}), {@code iat}, {@code exp} and an accepted
 * {@code aud}; at most a day between {@code iat} and {@code exp}; 60 seconds of clock tolerance.
 *
 * <pre>{@code
 * TokenVerifier verifier = JwtTokenVerifier.builder()
 *     .audience("https://sync.example.com")
 *     .jwksUri(URI.create("https://auth.example.com/.well-known/jwks.json"))
 *     .build();
 * }</pre>
 *
 * <p>Thread-safe. JWKS are fetched on the calling thread, at most once per refresh, with a
 * 10-second timeout; no background threads.
 */
public final class JwtTokenVerifier implements TokenVerifier {
  private static final Duration REFRESH_AFTER = Duration.ofMinutes(5);
  private static final Duration DISCARD_AFTER = Duration.ofMinutes(60);
  private static final Duration MIN_REFETCH_INTERVAL = Duration.ofSeconds(30);

  private final Set<String> audiences;
  private final List<JWK> staticKeys;
  private final List<URI> jwksUris;
  private final Duration maxLifetime;
  private final Duration clockSkew;
  private final InstantSource clock;
  private final Object fetchLock = new Object();
  private volatile RemoteKeys remote = new RemoteKeys(List.of(), Instant.EPOCH, Instant.EPOCH);

  private record RemoteKeys(List<JWK> keys, Instant fetchedAt, Instant attemptedAt) {}

  private JwtTokenVerifier(Builder b) {
    this.audiences = Set.copyOf(b.audiences);
    this.staticKeys = List.copyOf(b.keys);
    this.jwksUris = List.copyOf(b.jwksUris);
    this.maxLifetime = b.maxLifetime;
    this.clockSkew = b.clockSkew;
    this.clock = b.clock;
  }

  /** Starts configuring a verifier. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Configures a {@link JwtTokenVerifier}. Setters check their argument at once. Not thread-safe.
   */
  public static final class Builder {
    private final Set<String> audiences = new LinkedHashSet<>();
    private final List<JWK> keys = new ArrayList<>();
    private final List<URI> jwksUris = new ArrayList<>();
    private Duration maxLifetime = Duration.ofDays(1);
    private Duration clockSkew = Duration.ofSeconds(60);
    private InstantSource clock = InstantSource.system();

    private Builder() {}

    /** Accepted audiences; a token's {@code aud} (string or array) must contain one. Required. */
    public Builder audience(String... audience) {
      for (String a : audience) {
        audiences.add(Objects.requireNonNull(a, "audience"));
      }
      return this;
    }

    /** A trusted key as a JWK (JSON object text): RSA, EC, OKP (Ed25519) or oct (HMAC). */
    public Builder jwk(String jwkJson) {
      try {
        keys.add(JWK.parse(jwkJson));
      } catch (ParseException e) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "not a valid JWK: " + e.getMessage(), e);
      }
      return this;
    }

    /** Trusted keys as a JWK set ({@code {"keys": [...]}}). */
    public Builder jwks(String jwksJson) {
      try {
        keys.addAll(JWKSet.parse(jwksJson).getKeys());
      } catch (ParseException e) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "not a valid JWK set: " + e.getMessage(), e);
      }
      return this;
    }

    /** A shared HMAC secret (at least 32 bytes), with an optional key id. */
    public Builder hmacSecret(byte[] secret, @Nullable String kid) {
      if (secret.length < 32) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT,
            "an HMAC secret must have at least 32 bytes, got " + secret.length);
      }
      OctetSequenceKey.Builder k = new OctetSequenceKey.Builder(secret);
      if (kid != null) {
        k.keyID(kid);
      }
      keys.add(k.build());
      return this;
    }

    /**
     * A JWKS URI to fetch public keys from (RSA, EC and OKP keys meant for signatures are used).
     */
    public Builder jwksUri(URI uri) {
      String scheme = uri.getScheme();
      if (!"https".equals(scheme) && !"http".equals(scheme)) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "a JWKS URI must be http or https, got " + uri);
      }
      jwksUris.add(uri);
      return this;
    }

    /** The longest accepted {@code exp - iat}; default one day. */
    public Builder maxLifetime(Duration maxLifetime) {
      if (maxLifetime.isNegative() || maxLifetime.isZero()) {
        throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "max lifetime must be positive");
      }
      this.maxLifetime = maxLifetime;
      return this;
    }

    /**
     * Tolerance for clock differences on {@code exp}, {@code nbf} and {@code iat}; default 60
     * seconds.
     */
    public Builder clockSkew(Duration clockSkew) {
      if (clockSkew.isNegative()) {
        throw new SynclineException(ErrorCode.INVALID_ARGUMENT, "clock skew must not be negative");
      }
      this.clockSkew = clockSkew;
      return this;
    }

    /** The clock; default the system clock. Tests pass a fixed or advancing one. */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The verifier; fails when no audience or no key source is configured. */
    public JwtTokenVerifier build() {
      List<String> problems = new ArrayList<>();
      if (audiences.isEmpty()) {
        problems.add("at least one audience is required (audience(...))");
      }
      if (keys.isEmpty() && jwksUris.isEmpty()) {
        problems.add("at least one key or JWKS URI is required (jwk, jwks, hmacSecret or jwksUri)");
      }
      if (!problems.isEmpty()) {
        throw new SynclineException(
            ErrorCode.INVALID_ARGUMENT, "invalid JwtTokenVerifier: " + String.join("; ", problems));
      }
      return new JwtTokenVerifier(this);
    }
  }

  @Override
  public AuthContext verify(String token) {
    if (token == null || token.isBlank()) {
      throw new SynclineException(ErrorCode.AUTH_REQUIRED, "Authentication required");
    }
    SignedJWT jwt;
    try {
      jwt = SignedJWT.parse(token.strip());
    } catch (ParseException e) {
      throw new SynclineException(ErrorCode.AUTH_INVALID, "Token is not a valid JWT");
    }
    JWSHeader header = jwt.getHeader();
    List<JWK> candidates = candidates(header, keys(false));
    if (candidates.isEmpty() && !jwksUris.isEmpty()) {
      candidates = candidates(header, keys(true));
    }
    if (candidates.isEmpty()) {
      throw new SynclineException(
          ErrorCode.AUTH_INVALID,
          "Could not find an appropriate key in the keystore. The "
              + "key is missing or no key matched the token KID");
    }
    boolean verified = false;
    for (JWK key : candidates) {
      try {
        if (jwt.verify(verifier(key))) {
          verified = true;
          break;
        }
      } catch (JOSEException e) {
        // Try the next key.
      }
    }
    if (!verified) {
      throw new SynclineException(ErrorCode.AUTH_SIGNATURE, "JWT signature verification failed");
    }
    try {
      // The subject as the token carries it: the parsed claims set turns a numeric "sub" into text.
      Map<String, Object> payload = jwt.getPayload().toJSONObject();
      return checkClaims(jwt.getJWTClaimsSet(), payload == null ? null : payload.get("sub"));
    } catch (ParseException e) {
      throw new SynclineException(ErrorCode.AUTH_INVALID, "JWT payload is not a valid claims set");
    }
  }

  private AuthContext checkClaims(JWTClaimsSet claims, @Nullable Object sub) {
    Date exp = claims.getExpirationTime();
    Date iat = claims.getIssueTime();
    if (sub == null) {
      throw new SynclineException(
          ErrorCode.AUTH_INVALID, "JWT payload is missing a required claim \"sub\"");
    }
    if (!(sub instanceof String s) || s.isEmpty()) {
      // A number, object or empty string would name a user ambiguously ("42", "null", ""): refused.
      throw new SynclineException(
          ErrorCode.AUTH_INVALID, "JWT payload \"sub\" must be a non-empty string");
    }
    if (iat == null) {
      throw new SynclineException(
          ErrorCode.AUTH_INVALID, "JWT payload is missing a required claim \"iat\"");
    }
    if (exp == null) {
      throw new SynclineException(
          ErrorCode.AUTH_INVALID, "JWT payload is missing a required claim \"exp\"");
    }
    Instant now = clock.instant();
    if (exp.toInstant().plus(clockSkew).isBefore(now)) {
      throw new SynclineException(ErrorCode.AUTH_EXPIRED, "JWT has expired");
    }
    if (claims.getNotBeforeTime() != null
        && claims.getNotBeforeTime().toInstant().minus(clockSkew).isAfter(now)) {
      throw new SynclineException(ErrorCode.AUTH_INVALID, "JWT is not valid yet");
    }
    if (iat.toInstant().minus(clockSkew).isAfter(now)) {
      throw new SynclineException(ErrorCode.AUTH_INVALID, "JWT was issued in the future");
    }
    long lifetime = Duration.between(iat.toInstant(), exp.toInstant()).toSeconds();
    if (lifetime > maxLifetime.toSeconds()) {
      throw new SynclineException(
          ErrorCode.AUTH_LIFETIME,
          "Token must expire in a maximum of "
              + maxLifetime.toSeconds()
              + " seconds, got "
              + lifetime
              + "s");
    }
    List<String> aud = claims.getAudience();
    if (aud == null || aud.isEmpty()) {
      throw new SynclineException(
          ErrorCode.AUTH_AUDIENCE, "JWT payload is missing a required claim \"aud\"");
    }
    if (aud.stream().noneMatch(audiences::contains)) {
      throw new SynclineException(
          ErrorCode.AUTH_AUDIENCE, "Unexpected \"aud\" claim value: " + aud);
    }
    Object parameters = claims.getClaims().get("parameters");
    if (parameters != null && !(parameters instanceof Map)) {
      throw new SynclineException(
          ErrorCode.AUTH_INVALID, "parameters in the JWT payload must be an object");
    }
    Map<String, @Nullable Object> json =
        new LinkedHashMap<String, @Nullable Object>(claims.toJSONObject());
    return new AuthContext(json, exp.toInstant()); // checks the user id's length and characters too
  }

  /** Keys whose id and algorithm fit the token (protocol §6.2). */
  private static List<JWK> candidates(JWSHeader header, List<JWK> keys) {
    JWSAlgorithm alg = header.getAlgorithm();
    String kid = header.getKeyID();
    if (kid != null) {
      for (JWK k : keys) {
        if (kid.equals(k.getKeyID())) {
          return fits(k, alg) ? List.of(k) : List.of();
        }
      }
    }
    return keys.stream().filter(k -> k.getKeyID() == null && fits(k, alg)).toList();
  }

  private static boolean fits(JWK key, JWSAlgorithm alg) {
    if (key.getAlgorithm() != null) {
      return key.getAlgorithm().getName().equals(alg.getName());
    }
    KeyType kty = key.getKeyType();
    if (KeyType.RSA.equals(kty)) {
      return JWSAlgorithm.Family.RSA.contains(alg);
    } else if (KeyType.EC.equals(kty)) {
      return JWSAlgorithm.Family.EC.contains(alg);
    } else if (KeyType.OKP.equals(kty)) {
      return JWSAlgorithm.EdDSA.equals(alg) || JWSAlgorithm.Ed25519.equals(alg);
    } else if (KeyType.OCT.equals(kty)) {
      return JWSAlgorithm.Family.HMAC_SHA.contains(alg);
    }
    return false;
  }

  private static JWSVerifier verifier(JWK key) throws JOSEException {
    if (key instanceof RSAKey r) {
      return new RSASSAVerifier(r);
    } else if (key instanceof ECKey e) {
      return new ECDSAVerifier(e);
    } else if (key instanceof OctetKeyPair o) {
      return new Ed25519Verifier(o);
    } else if (key instanceof OctetSequenceKey s) {
      return new MACVerifier(s);
    }
    throw new JOSEException("unsupported key type " + key.getKeyType());
  }

  @SuppressWarnings("ReferenceEquality") // identity: has no other thread replaced the keys since?
  private List<JWK> keys(boolean forceRefresh) {
    if (jwksUris.isEmpty()) {
      return staticKeys;
    }
    RemoteKeys current = remote;
    Instant now = clock.instant();
    boolean stale = current.fetchedAt.plus(REFRESH_AFTER).isBefore(now);
    boolean mayRetry = current.attemptedAt.plus(MIN_REFETCH_INTERVAL).isBefore(now);
    if ((stale || forceRefresh) && mayRetry) {
      synchronized (fetchLock) {
        if (remote == current) {
          remote = fetch(current, now);
        }
        current = remote;
      }
    }
    List<JWK> all = new ArrayList<>(staticKeys);
    if (current.fetchedAt.plus(DISCARD_AFTER).isAfter(now)) {
      all.addAll(current.keys);
    } else if (staticKeys.isEmpty()) {
      throw new SynclineException(
          ErrorCode.AUTH_KEYS_UNAVAILABLE,
          "could not fetch the keys to verify tokens from " + jwksUris);
    }
    return all;
  }

  private RemoteKeys fetch(RemoteKeys previous, Instant now) {
    List<JWK> fetched = new ArrayList<>();
    for (URI uri : jwksUris) {
      try {
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
        c.setConnectTimeout(10_000);
        c.setReadTimeout(10_000);
        c.setRequestProperty("Accept", "application/json");
        if (c.getResponseCode() != 200) {
          return new RemoteKeys(previous.keys, previous.fetchedAt, now);
        }
        String body;
        try (InputStream in = c.getInputStream()) {
          body = new String(in.readNBytes(1 << 20), StandardCharsets.UTF_8);
        }
        for (JWK k : JWKSet.parse(body).getKeys()) {
          boolean signing = k.getKeyUse() == null || KeyUse.SIGNATURE.equals(k.getKeyUse());
          boolean verifies =
              k.getKeyOperations() == null || k.getKeyOperations().contains(KeyOperation.VERIFY);
          boolean asymmetric = !KeyType.OCT.equals(k.getKeyType());
          if (signing && verifies && asymmetric) {
            fetched.add(k);
          }
        }
      } catch (IOException | ParseException | RuntimeException e) {
        // Keep serving with the keys we have until they are discarded.
        return new RemoteKeys(previous.keys, previous.fetchedAt, now);
      }
    }
    return new RemoteKeys(List.copyOf(fetched), now, now);
  }
}
