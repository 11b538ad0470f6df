package dev.syncline.core.internal.rules.plan;

import dev.syncline.core.internal.rules.eval.SqlFunctions;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The {@code request.*} functions of parameter queries. */
final class RequestFunctions {
  private RequestFunctions() {}

  /** Whether a request value can be trusted for authorization. */
  enum Usage {
    AUTHENTICATED,
    UNAUTHENTICATED
  }

  /** A request function: name, arity, and how it reads the request. */
  record Function(String name, int parameterCount, Usage usage, Impl impl) {}

  @FunctionalInterface
  interface Impl {
    @Nullable Object call(RequestParameters parameters, @Nullable Object[] args);
  }

  /** Edition-2 functions, which {@code request.parameter()} always uses (fixed JSON extraction). */
  private static final SqlFunctions FIXED = new SqlFunctions(true);

  static final Map<String, Function> REQUEST =
      Map.of(
          "user_id", new Function("request.user_id", 0, Usage.AUTHENTICATED, (p, a) -> p.userId),
          "jwt", new Function("request.jwt", 0, Usage.AUTHENTICATED, (p, a) -> p.rawTokenPayload),
          "parameters",
              new Function(
                  "request.parameters", 0, Usage.UNAUTHENTICATED, (p, a) -> p.rawUserParameters),
          "parameter",
              new Function(
                  "request.parameter",
                  1,
                  Usage.UNAUTHENTICATED,
                  (p, a) ->
                      a[0] instanceof String path
                          ? FIXED.jsonExtractFromParsed(p.userParameters, path, "->>")
                          : null));
}
