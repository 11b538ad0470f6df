package dev.syncline.api.rules;

/** Why a client receives a bucket. */
public sealed interface InclusionReason
    permits InclusionReason.Default, InclusionReason.Subscription {
  /** The bucket belongs to a bucket definition or an auto-subscribed stream. */
  Default DEFAULT = new Default();

  /** Subscribed by default. Use {@link InclusionReason#DEFAULT}. */
  record Default() implements InclusionReason {}

  /**
   * The client subscribed to the stream explicitly.
   *
   * @param index the subscription's index in the request's {@code streams.subscriptions}
   */
  record Subscription(int index) implements InclusionReason {}
}
