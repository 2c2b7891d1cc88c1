/* mcr-password-file.c: a password read from a private file or a systemd
 * credential, never from the command line
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-headless"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcr-password-file.h"

/* A password is a line; more than this is not one. */
#define MAX_PASSWORD_FILE 4096

/* The first line of the open file @fd, named @shown in messages. */
static char *
read_line (int          fd,
           const char  *shown,
           GError     **error)
{
  char buf[MAX_PASSWORD_FILE + 1];
  gsize len = 0;
  char *line;

  while (len < sizeof buf - 1)
    {
      gssize n = read (fd, buf + len, sizeof buf - 1 - len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                       "%s: %s", shown, g_strerror (saved));
          explicit_bzero (buf, sizeof buf);
          return NULL;
        }
      if (n == 0)
        break;
      len += n;
    }
  buf[len] = '\0';
  buf[strcspn (buf, "\r\n")] = '\0';
  if (buf[0] == '\0')
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   _("%s: the file is empty; put the password on its first line"), shown);
      explicit_bzero (buf, sizeof buf);
      return NULL;
    }
  line = g_strdup (buf);
  explicit_bzero (buf, sizeof buf);
  return line;
}

static char *
read_file (const char  *path,
           gboolean     check_private,
           GError     **error)
{
  g_autofree char *shown = g_filename_display_name (path);
  struct stat st;
  char *password;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "%s: %s", shown, g_strerror (saved));
      return NULL;
    }
  /* Checked on the open file, so that it cannot change in between. */
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   _("%s is not a regular file"), shown);
      close (fd);
      return NULL;
    }
  if (check_private && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                   _("%s can be read or changed by other users (mode %03o): the password "
                     "file is not used; make it private with chmod 600"),
                   shown, (unsigned) (st.st_mode & 0777));
      close (fd);
      return NULL;
    }
  password = read_line (fd, shown, error);
  close (fd);
  return password;
}

char *
mcr_password_file_read (const char  *path,
                        GError     **error)
{
  return read_file (path, TRUE, error);
}

char *
mcr_password_credential_read (const char  *name,
                              GError     **error)
{
  const char *dir = g_getenv ("CREDENTIALS_DIRECTORY");
  g_autofree char *path = NULL;

  if (dir == NULL || dir[0] == '\0')
    return NULL;
  path = g_build_filename (dir, name, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  /* systemd made the directory and the file private to us; its mode is
   * systemd's business. */
  return read_file (path, FALSE, error);
}
