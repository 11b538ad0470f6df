package dev.syncline.api.rules;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Who is asking and with what: the verified token claims, the client's (unauthenticated)
 * parameters, and its stream subscriptions.
 *
 * <p>JSON values are plain Java objects: {@code null}, {@link String}, {@link Number}, {@link
 * Boolean}, {@link java.util.List} and {@link Map} (ordered). The user id is the {@code sub} claim.
 *
 * @param claims the verified token payload ({@code request.jwt()}, {@code token_parameters} from
 *     its {@code parameters} claim)
 * @param clientParameters the client's parameters ({@code request.parameters()}, {@code
 *     user_parameters})
 * @param includeDefaults whether bucket definitions and auto-subscribed streams are included (the
 *     request's {@code streams.include_defaults}, default true)
 * @param subscriptions the client's explicit stream subscriptions, in request order
 */
public record RequestContext(
    Map<String, @Nullable Object> claims,
    Map<String, @Nullable Object> clientParameters,
    boolean includeDefaults,
    List<Subscription> subscriptions) {

  /**
   * One explicit stream subscription.
   *
   * @param stream the stream (or bucket definition) name
   * @param parameters the subscription parameters
   * @param overridePriority a priority 0..3 replacing the stream's, or null
   */
  public record Subscription(
      String stream, Map<String, @Nullable Object> parameters, @Nullable Integer overridePriority) {
    /** Copies the parameters. */
    public Subscription(
        String stream,
        Map<String, @Nullable Object> parameters,
        @Nullable Integer overridePriority) {
      // An explicit canonical constructor: javac records a compact one's type-use annotations (the
      // maps' @Nullable
      // values) as field annotations, so nullness checkers reading the class file would see
      // non-null values.
      this.stream = Objects.requireNonNull(stream, "stream");
      this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
      this.overridePriority = overridePriority;
    }
  }

  /** Copies the maps, keeping their order. */
  public RequestContext(
      Map<String, @Nullable Object> claims,
      Map<String, @Nullable Object> clientParameters,
      boolean includeDefaults,
      List<Subscription> subscriptions) {
    // An explicit canonical constructor: javac records a compact one's type-use annotations (the
    // maps' @Nullable
    // values) as field annotations, so nullness checkers reading the class file would see non-null
    // values.
    this.claims =
        Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(claims, "claims")));
    this.clientParameters =
        Collections.unmodifiableMap(
            new LinkedHashMap<>(Objects.requireNonNull(clientParameters, "clientParameters")));
    this.includeDefaults = includeDefaults;
    this.subscriptions = List.copyOf(subscriptions);
  }

  /** A context with default streams and no subscriptions. */
  public RequestContext(
      Map<String, @Nullable Object> claims, Map<String, @Nullable Object> clientParameters) {
    this(claims, clientParameters, true, List.of());
  }

  /** A context for a user id with no other claims and no client parameters. */
  public static RequestContext forUser(String userId) {
    return new RequestContext(Map.of("sub", userId), Map.of());
  }

  /** The {@code sub} claim, or {@code null}. */
  public @Nullable Object userId() {
    return claims.get("sub");
  }
}
