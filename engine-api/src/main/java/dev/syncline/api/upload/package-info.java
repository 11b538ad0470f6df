/**
 * The server side of offline writes: the model of what PowerSync client SDKs upload (their CRUD
 * queue), and the callbacks an upload handler consults (authorization, conflicts). The handler that
 * applies uploads to Postgres is {@code dev.syncline.core.upload.UploadHandler} in {@code
 * engine-core}. <em>Incubating</em>.
 */
@NullMarked
package dev.syncline.api.upload;

import org.jspecify.annotations.NullMarked;
