package dev.syncline.core.internal.rules.plan;

/**
 * The reference compiler's stable string hash (a Jenkins one-at-a-time variant over UTF-16 code
 * units, 29 bits), which it uses to order an edition-3 stream's bucket parameters: bucket ids list
 * parameter values by the hash of the row expression each is matched against, so two configs
 * differing only in the order of their conditions share buckets.
 */
final class StableHash {
  private static final int SEED = 614160925;

  private StableHash() {}

  /** The hash of the concatenated parts, as the reference's hasher builds it. */
  static int of(String... parts) {
    int hash = SEED;
    for (String part : parts) {
      for (int i = 0; i < part.length(); i++) {
        hash = 0x1fffffff & (hash + part.charAt(i));
        hash = 0x1fffffff & (hash + ((0x0007ffff & hash) << 10));
        hash = hash ^ (hash >> 6);
      }
    }
    hash = 0x1fffffff & (hash + ((0x03ffffff & hash) << 3));
    hash = hash ^ (hash >> 11);
    return 0x1fffffff & (hash + ((0x00003fff & hash) << 15));
  }
}
