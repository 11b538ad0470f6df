package dev.syncline.api;

/**
 * Stable error codes. A code is never renamed or reused; where PowerSync has a code for the same
 * condition, Syncline uses the same text so that clients and operators see familiar codes.
 *
 * <p>Each code carries the HTTP status an HTTP adapter answers with when the error reaches the
 * edge.
 */
public enum ErrorCode {
  /**
   * The sync rules are invalid; {@link SyncRulesException#problems()} lists every problem with its
   * position.
   */
  SYNC_RULES_INVALID("PSYNC_R0001", 400),
  /** A value handed to an API method is out of its documented range or malformed. */
  INVALID_ARGUMENT("SYNCLINE_A0001", 400),
  /** A request to the sync endpoint failed validation (malformed JSON, wrong field types). */
  INVALID_REQUEST("PSYNC_S2001", 400),
  /** A sync-rules feature that this version of Syncline does not implement yet. */
  UNSUPPORTED_FEATURE("SYNCLINE_R0002", 400),
  /**
   * Evaluating a row or a request against the sync rules failed at run time (e.g. invalid JSON in a
   * column).
   */
  RULES_EVALUATION_FAILED("SYNCLINE_R0003", 400),
  /** An input file (rows, vectors) could not be read or parsed. */
  INVALID_INPUT_FILE("SYNCLINE_A0002", 400),
  /**
   * Another process holds the replication lock of this rules version; normal during deploys and
   * fail-over.
   */
  REPLICATION_LOCKED("PSYNC_S1003", 409),
  /**
   * A storage operation failed (connection lost, constraint violated); nothing of the batch was
   * applied.
   */
  STORAGE_FAILED("SYNCLINE_S0001", 503),
  /** The requested rules version, bucket or checkpoint does not exist in storage. */
  NOT_FOUND("SYNCLINE_S0002", 404),
  /**
   * No token, or an Authorization header that is not {@code Token <jwt>} or {@code Bearer <jwt>}.
   */
  AUTH_REQUIRED("PSYNC_S2106", 401),
  /**
   * The token is malformed, lacks {@code sub}/{@code iat}/{@code exp}, or no trusted key matches
   * it.
   */
  AUTH_INVALID("PSYNC_S2101", 401),
  /** The token's signature does not verify with the matching key. */
  AUTH_SIGNATURE("PSYNC_S2102", 401),
  /** The token has expired. */
  AUTH_EXPIRED("PSYNC_S2103", 401),
  /** The token's lifetime ({@code exp - iat}) exceeds the allowed maximum. */
  AUTH_LIFETIME("PSYNC_S2104", 401),
  /** The token's {@code aud} is missing or not accepted. */
  AUTH_AUDIENCE("PSYNC_S2105", 401),
  /** The keys to verify tokens could not be fetched (JWKS request failed). */
  AUTH_KEYS_UNAVAILABLE("PSYNC_S2204", 401),
  /**
   * A connection would receive more buckets, or parameter results, than the configured limit
   * (§5.5).
   */
  TOO_MANY_BUCKETS("PSYNC_S2305", 400),
  /**
   * The server already holds its configured maximum of concurrent sync streams; retry later (HTTP
   * 429).
   */
  TOO_MANY_CONNECTIONS("PSYNC_S2304", 429),
  /**
   * The source database is not set up for replication: {@code wal_level} is not {@code logical},
   * the role lacks the REPLICATION right, there are no free replication slots or WAL senders, or a
   * table the rules read has no primary key or usable replica identity. The message says what to
   * change.
   */
  SOURCE_MISCONFIGURED("SYNCLINE_P0001", 503),
  /** The publication the source replicates from does not exist ({@code CREATE PUBLICATION ...}). */
  PUBLICATION_MISSING("PSYNC_S1141", 503),
  /**
   * The publication does not publish every change kind, or does not cover every table the rules
   * read; the message names what is missing.
   */
  PUBLICATION_INCOMPLETE("PSYNC_S1142", 503),
  /**
   * The replication slot is gone or was invalidated (e.g. by {@code max_slot_wal_keep_size}):
   * changes were lost upstream. Recovery: deploy the rules again as a new version, which takes a
   * new snapshot.
   */
  SLOT_INVALIDATED("SYNCLINE_P0002", 503),
  /**
   * The source database could not be reached or the connection was lost; replication retries with
   * backoff.
   */
  SOURCE_UNAVAILABLE("SYNCLINE_P0003", 503),
  /**
   * The source sent something the adapter cannot interpret (a malformed replication message); a bug
   * to report.
   */
  SOURCE_PROTOCOL("PSYNC_S1101", 500),
  /**
   * An uploaded write names a table or column the upload handler does not allow, or a value it
   * cannot store; the whole client transaction is rejected and nothing is written. Permanent: the
   * client should discard it.
   */
  UPLOAD_INVALID("SYNCLINE_U0001", 422),
  /**
   * The authorization callback denied an uploaded write; nothing of its transaction is written.
   * Permanent.
   */
  UPLOAD_FORBIDDEN("SYNCLINE_U0002", 403),
  /** The conflict policy rejected an uploaded write against the row's current state. Permanent. */
  UPLOAD_CONFLICT("SYNCLINE_U0003", 409),
  /**
   * An upload could not be applied for a reason that may pass (the database was unreachable, a
   * serialization failure, a deadlock); nothing was written. Transient: the client should retry the
   * same upload.
   */
  UPLOAD_RETRY("SYNCLINE_U0004", 503),
  /**
   * The client did not send its request (headers or body) within the server's time limit; nothing
   * was done. The connection is closed; a well-behaved client simply retries.
   */
  REQUEST_TIMEOUT("SYNCLINE_H0001", 408),
  /** The engine is not running (not started yet, or closed). */
  ENGINE_NOT_RUNNING("SYNCLINE_E0001", 503),
  /** An unexpected internal failure; a bug in Syncline. */
  INTERNAL("PSYNC_S0001", 500);

  private final String code;
  private final int httpStatus;

  ErrorCode(String code, int httpStatus) {
    this.code = code;
    this.httpStatus = httpStatus;
  }

  /** The stable code text, e.g. {@code PSYNC_R0001}. */
  public String code() {
    return code;
  }

  /** The HTTP status an HTTP adapter answers with for this error. */
  public int httpStatus() {
    return httpStatus;
  }
}
