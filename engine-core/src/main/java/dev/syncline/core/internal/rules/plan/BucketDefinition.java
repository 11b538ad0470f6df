package dev.syncline.core.internal.rules.plan;

import java.util.List;

/**
 * A compiled {@code bucket_definitions} entry.
 *
 * @param name the definition name
 * @param bucketPrefix the bucket id prefix: the name, or {@code <version>#<name>} with versioned
 *     bucket ids
 * @param bucketParameters the bucket parameter names
 * @param parameterQueries parameter queries in declaration order
 * @param dataQueries data queries in declaration order
 */
record BucketDefinition(
    String name,
    String bucketPrefix,
    List<String> bucketParameters,
    List<ParameterQuery> parameterQueries,
    List<DataQuery> dataQueries) {}
