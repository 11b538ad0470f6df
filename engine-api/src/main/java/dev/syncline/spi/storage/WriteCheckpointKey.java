package dev.syncline.spi.storage;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Whose write checkpoints (PowerSync protocol §7): a user and one of their clients, kept apart so
 * that no pair of user and client ids can be mistaken for another (user {@code a/b} with client
 * {@code c} is not user {@code a} with client {@code b/c}). Storages keep the two as separate
 * columns.
 *
 * @param userId the verified user ({@link AuthContext#userId()})
 * @param clientId the client's id as the SDK sends it; empty when the request named none
 */
public record WriteCheckpointKey(String userId, String clientId) {
  /** Longest accepted client id, in characters (the SDKs send a UUID: 36). */
  public static final int MAX_CLIENT_ID_LENGTH = 128;

  /**
   * Largest write checkpoint id a client may request ({@code 2^53 - 1}): every id reaches clients
   * as a JSON number or string that JavaScript SDKs hold exactly up to this value, and managed
   * write checkpoints counting up from a requested id must never overflow a signed 64-bit integer.
   */
  public static final long MAX_ID = (1L << 53) - 1;

  /**
   * Validates the components.
   *
   * @throws SynclineException {@code INVALID_REQUEST} (HTTP 400) when the client id is longer than
   *     {@link #MAX_CLIENT_ID_LENGTH} or contains control characters; {@code INVALID_ARGUMENT} for
   *     a user id that no {@link AuthContext} would carry
   */
  public WriteCheckpointKey {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(clientId, "clientId");
    if (userId.isEmpty()
        || userId.length() > AuthContext.MAX_USER_ID_LENGTH
        || userId.indexOf('\0') >= 0) {
      throw new SynclineException(
          ErrorCode.INVALID_ARGUMENT,
          "a write checkpoint's user id must be a verified "
              + "user's id (non-empty, at most "
              + AuthContext.MAX_USER_ID_LENGTH
              + " characters, no NUL)");
    }
    checkClientId(clientId);
  }

  /** The key of a verified user's client; {@code clientId} null or absent means none. */
  public static WriteCheckpointKey of(AuthContext user, @Nullable String clientId) {
    return new WriteCheckpointKey(user.userId(), clientId == null ? "" : clientId);
  }

  /**
   * Checks a client id as the sync endpoints receive it.
   *
   * @throws SynclineException {@code INVALID_REQUEST} when longer than {@link
   *     #MAX_CLIENT_ID_LENGTH} characters or holding control characters
   */
  public static void checkClientId(String clientId) {
    if (clientId.length() > MAX_CLIENT_ID_LENGTH) {
      throw new SynclineException(
          ErrorCode.INVALID_REQUEST,
          "Invalid request: client_id is longer than " + MAX_CLIENT_ID_LENGTH + " characters");
    }
    for (int i = 0; i < clientId.length(); i++) {
      char c = clientId.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw new SynclineException(
            ErrorCode.INVALID_REQUEST,
            "Invalid request: client_id must not contain " + "control characters");
      }
    }
  }

  /**
   * Checks a client-requested write checkpoint id.
   *
   * @throws SynclineException {@code INVALID_REQUEST} unless {@code 1 <= id <= MAX_ID}
   */
  public static void checkRequestedId(long id) {
    if (id < 1 || id > MAX_ID) {
      throw new SynclineException(
          ErrorCode.INVALID_REQUEST,
          "Invalid request: checkpoint_request_id must be an " + "integer from 1 to " + MAX_ID);
    }
  }
}
