/**
 * The server side of offline writes: {@link dev.syncline.core.upload.UploadHandler}.
 * <em>Incubating</em>.
 */
@NullMarked
package dev.syncline.core.upload;

import org.jspecify.annotations.NullMarked;
