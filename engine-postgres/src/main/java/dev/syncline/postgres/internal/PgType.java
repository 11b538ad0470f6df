package dev.syncline.postgres.internal;

/**
 * What the value conversion needs to know of a Postgres type ({@code pg_type}).
 *
 * @param oid the type's oid
 * @param category {@code typcategory}: {@code A} array, {@code E} enum, ... ({@code U} when
 *     unknown)
 * @param elementOid for arrays, the element type's oid; else 0
 * @param delimiter for arrays, the element delimiter ({@code ,} for all built-in types but {@code
 *     box})
 */
public record PgType(int oid, char category, int elementOid, char delimiter) {
  /** A type that is not an array. */
  public static PgType scalar(int oid) {
    return new PgType(oid, 'U', 0, ',');
  }

  /** Whether values of this type are arrays. */
  public boolean isArray() {
    return category == 'A' && elementOid != 0;
  }
}
