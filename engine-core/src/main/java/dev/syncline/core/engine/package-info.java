/** The embeddable engine ({@link dev.syncline.core.engine.Syncline}). <em>Incubating</em>. */
@NullMarked
package dev.syncline.core.engine;

import org.jspecify.annotations.NullMarked;
