package dev.syncline.api;

/** The kinds of bucket operations (PowerSync protocol §3.1). Names are the wire names. */
public enum OpType {
  /** A row is in the bucket with this data. */
  PUT,
  /** A row left the bucket. */
  REMOVE,
  /** A compacted operation superseded by a later one; only its checksum remains. */
  MOVE,
  /** A compacted bucket prefix; its checksum is the sum of the operations it replaced. */
  CLEAR
}
