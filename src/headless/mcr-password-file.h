/* mcr-password-file.h: a password read from a private file or a systemd
 * credential, never from the command line
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The first line of @path, without its line end (transfer full: wipe it
 * with mcr_secret_wipe_free()). Refused, with a message that names the file
 * and says what to do, when the group or other users may read or write it,
 * when it is not a regular file, or when it is empty. */
char *mcr_password_file_read     (const char  *path,
                                  GError     **error);
/* The credential @name that systemd put in $CREDENTIALS_DIRECTORY
 * (LoadCredential=@name:…). NULL without an error when there is no such
 * directory or no such credential. */
char *mcr_password_credential_read (const char  *name,
                                    GError     **error);

G_END_DECLS
