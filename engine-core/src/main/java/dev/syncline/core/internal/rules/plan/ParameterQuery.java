package dev.syncline.core.internal.rules.plan;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** A compiled parameter query of a bucket definition. */
sealed interface ParameterQuery
    permits TableParameterQuery, StaticParameterQuery, TableValuedParameterQuery {
  /** Output column names that are bucket parameters, in order. */
  List<String> bucketParameters();

  /** 1-based index within its definition. */
  String queryId();

  int priority();

  /** A bucket before resolution: its serialized parameters and priority. */
  record BucketDescription(String serializedParameters, int priority) {}

  /** Buckets known from the request alone (static queries); throws on evaluation errors. */
  default List<BucketDescription> staticBuckets(RequestParameters parameters) {
    return List.of();
  }

  /** Parameter-index look-ups for the request (table queries), as lists of normalized values. */
  default List<List<@Nullable Object>> lookups(RequestParameters parameters) {
    return List.of();
  }

  /** Resolves stored bucket parameter rows into buckets (table queries). */
  default List<BucketDescription> resolve(
      List<Map<String, @Nullable Object>> rows, RequestParameters parameters) {
    return List.of();
  }
}
