package dev.syncline.core.internal.rules.plan;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.core.internal.rules.eval.JsJson;
import dev.syncline.core.internal.rules.eval.SqlValues;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A request as the rules see it, derived once per connection from a {@link RequestContext}: the
 * token payload as JSON text ({@code request.jwt()}), legacy {@code token_parameters}, client
 * parameters. Immutable.
 */
class RequestParameters {
  private static final int DEPTH_LIMIT = 10;

  final Map<String, @Nullable Object> parsedPayload;
  final Map<String, @Nullable Object> legacyTokenParameters;
  final Map<String, @Nullable Object> userParameters;
  final String rawTokenPayload;
  final String rawUserParameters;
  final @Nullable Object userId;

  RequestParameters(RequestContext request) {
    this.parsedPayload = jsObject(request.claims());
    Map<String, @Nullable Object> clientParameters = jsObject(request.clientParameters());
    Object sub = parsedPayload.get("sub");
    this.userId = SqlValues.fromJson(sub, true);
    Map<String, @Nullable Object> tokenParameters = new LinkedHashMap<>();
    if (parsedPayload.get("parameters") instanceof Map<?, ?> legacy) {
      legacy.forEach((k, v) -> tokenParameters.put((String) k, v));
    }
    tokenParameters.put("user_id", userId);
    this.legacyTokenParameters = toSyncRulesParameters(tokenParameters);
    this.rawTokenPayload = JsJson.stringifyBig(parsedPayload);
    this.rawUserParameters = JsJson.stringifyBig(clientParameters);
    this.userParameters = toSyncRulesParameters(clientParameters);
  }

  /** A copy that answers look-ups of {@code table} from {@code row} (table-valued functions). */
  RequestParameters withTable(String table, Map<String, @Nullable Object> row) {
    RequestParameters base = this;
    return new RequestParameters(this) {
      @Override
      @Nullable Object lookup(String t, String column) {
        return t.equals(table) ? row.get(column) : base.lookup(t, column);
      }
    };
  }

  private RequestParameters(RequestParameters other) {
    this.parsedPayload = other.parsedPayload;
    this.legacyTokenParameters = other.legacyTokenParameters;
    this.userParameters = other.userParameters;
    this.rawTokenPayload = other.rawTokenPayload;
    this.rawUserParameters = other.rawUserParameters;
    this.userId = other.userId;
  }

  @Nullable Object lookup(String table, String column) {
    if (table.equals("token_parameters")) {
      return legacyTokenParameters.get(column);
    } else if (table.equals("user_parameters")) {
      return userParameters.get(column);
    }
    throw new IllegalStateException("Unknown table: " + table);
  }

  /** Converts a Java JSON-ish map into JavaScript's view of it: every number a double. */
  static Map<String, @Nullable Object> jsObject(Map<String, @Nullable Object> map) {
    Map<String, @Nullable Object> out = new LinkedHashMap<>();
    map.forEach((k, v) -> out.put(k, jsValue(v)));
    return out;
  }

  @SuppressWarnings("unchecked")
  private static @Nullable Object jsValue(@Nullable Object v) {
    if (v == null || v instanceof String || v instanceof Boolean) {
      return v;
    } else if (v instanceof Number n) {
      return n.doubleValue();
    } else if (v instanceof Map<?, ?> m) {
      return jsObject((Map<String, @Nullable Object>) m);
    } else if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>();
      for (Object o : l) {
        out.add(jsValue(o));
      }
      return out;
    }
    throw new SynclineException(
        ErrorCode.INVALID_ARGUMENT,
        "request values must be JSON values (String, Number, Boolean, List, Map, null), got "
            + v.getClass());
  }

  /**
   * {@code toSyncRulesParameters}: integral numbers become INTEGER, booleans 1/0, objects and
   * arrays JSON text.
   */
  static Map<String, @Nullable Object> toSyncRulesParameters(
      Map<String, @Nullable Object> parameters) {
    Map<String, @Nullable Object> out = new LinkedHashMap<>();
    parameters.forEach((k, v) -> out.put(k, toSyncRulesValue(v)));
    return out;
  }

  private static @Nullable Object toSyncRulesValue(@Nullable Object v) {
    if (v == null || v instanceof String || v instanceof Long || v instanceof BigInteger) {
      return v;
    } else if (v instanceof Double d) {
      if (!d.isNaN() && !d.isInfinite() && d == Math.rint(d)) {
        return SqlValues.integerOf(new BigDecimal(d).toBigInteger());
      }
      return d;
    } else if (v instanceof Boolean b) {
      return b ? SqlValues.TRUE : SqlValues.FALSE;
    } else if (v instanceof List || v instanceof Map) {
      return JsJson.stringifyBig(filterJsonData(v, 0));
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private static @Nullable Object filterJsonData(@Nullable Object data, int depth) {
    if (depth > DEPTH_LIMIT) {
      throw new SynclineException(
          ErrorCode.RULES_EVALUATION_FAILED,
          "json nested object depth exceeds the limit of " + DEPTH_LIMIT);
    }
    if (data instanceof Boolean b) {
      return b ? SqlValues.TRUE : SqlValues.FALSE;
    } else if (data instanceof List<?> l) {
      List<Object> out = new ArrayList<>();
      for (Object o : l) {
        out.add(filterJsonData(o, depth + 1));
      }
      return out;
    } else if (data instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      ((Map<String, Object>) m).forEach((k, v) -> out.put(k, filterJsonData(v, depth + 1)));
      return out;
    }
    return data;
  }
}
