/**
 * The embeddable engine: one object that replicates a source database into bucket storage through
 * the sync rules and serves the sync streams of PowerSync clients. The implementation is built with
 * {@code Syncline.builder()} in {@code engine-core}. <em>Incubating</em>.
 */
@NullMarked
package dev.syncline.api.engine;

import org.jspecify.annotations.NullMarked;
