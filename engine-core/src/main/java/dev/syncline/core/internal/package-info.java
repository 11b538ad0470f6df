/** Internal helpers of the engine; not API. */
@NullMarked
package dev.syncline.core.internal;

import org.jspecify.annotations.NullMarked;
