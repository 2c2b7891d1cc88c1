/* mcr-log.c: the program's one GLib log writer: secrets taken out of every
 * message, and the -debug log file
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The engine never logs a password, token, cookie or a URL with auth= on
 * purpose; this is the net under that rule, for libraries and for mistakes:
 * every message, ours or a library's, is redacted before it is printed,
 * written to the file or shown in the Debug Log window.
 */
#define G_LOG_DOMAIN "mcr-log"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcr-log.h"

#define HIDDEN "(hidden)"

/* Whole header values, up to the end of the line. */
#define HEADER_RE "(?i)\\b((?:x-meshauth|authorization|proxy-authorization|set-cookie|cookie)" \
                  "[ \\t]*[:=][ \\t]*)[^\\r\\n]+"
/* name=value, name: value, "name":"value" (the value quoted or up to a
 * delimiter), for names that end in a secret-sounding word. */
#define FIELD_RE "(?i)(\\b[\\w-]*(?:auth|cookie|pass|passwd|password|pwd|token|secret|key)" \
                 "[\"']?\\s*(?:[:=]|%3D)\\s*)(?!\\(hidden\\))(\"(?:[^\"\\\\]|\\\\.)*\"|'[^']*'|[^\\s&\"';}\\]]+)"
/* The query of an mcrouter:// link is its login cookie (c=) and more. */
#define LINK_RE "(?i)(mcrouter:[^\\s?\"']*\\?)[^\\s\"']+"

static GRegex *header_re;
static GRegex *field_re;
static GRegex *link_re;

static GMutex lock;                 /* for what follows */
static FILE *debug_file;
static char *debug_file_path;
static McrLogSinkFunc sink_func;
static gpointer sink_data;

static void
compile_once (void)
{
  static gsize done = 0;

  /* No G_REGEX_OPTIMIZE: PCRE2's JIT would need memory that is both
   * writable and executable, and reads past the end of the text (valgrind
   * reports each time); a log line is short. */
  if (g_once_init_enter (&done))
    {
      header_re = g_regex_new (HEADER_RE, G_REGEX_DEFAULT, 0, NULL);
      field_re = g_regex_new (FIELD_RE, G_REGEX_DEFAULT, 0, NULL);
      link_re = g_regex_new (LINK_RE, G_REGEX_DEFAULT, 0, NULL);
      g_assert (header_re != NULL && field_re != NULL && link_re != NULL);
      g_once_init_leave (&done, 1);
    }
}

static char *
replace (GRegex     *re,
         char       *text,
         const char *with)
{
  char *out;

  if (!g_regex_match (re, text, 0, NULL))
    return text;
  out = g_regex_replace (re, text, -1, 0, with, 0, NULL);
  if (out == NULL)
    {
      /* Not UTF-8, or the engine gave up: nothing of it is safe to show. */
      g_free (text);
      return g_strdup (HIDDEN);
    }
  g_free (text);
  return out;
}

char *
mcr_log_redact (const char *message)
{
  char *text;

  g_return_val_if_fail (message != NULL, NULL);

  compile_once ();
  if (!g_utf8_validate (message, -1, NULL))
    text = g_utf8_make_valid (message, -1);
  else
    text = g_strdup (message);
  text = replace (link_re, text, "\\1" HIDDEN);
  text = replace (header_re, text, "\\1" HIDDEN);
  text = replace (field_re, text, "\\1" HIDDEN);
  return text;
}

static const char *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "ERROR";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "CRITICAL";
  if (level & G_LOG_LEVEL_WARNING)
    return "WARNING";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "MESSAGE";
  if (level & G_LOG_LEVEL_INFO)
    return "INFO";
  return "DEBUG";
}

char *
mcr_log_format_line (GLogLevelFlags  level,
                     const char     *domain,
                     const char     *message,
                     gboolean        with_date)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *time = g_date_time_format (now, with_date ? "%Y-%m-%d %H:%M:%S.%f"
                                                             : "%H:%M:%S.%f");
  gsize time_len = with_date ? strlen ("YYYY-MM-DD hh:mm:ss.mmm") : strlen ("hh:mm:ss.mmm");
  gsize len;

  g_return_val_if_fail (message != NULL, NULL);

  len = strlen (message);
  while (len > 0 && message[len - 1] == '\n')
    len--;
  if (time != NULL && strlen (time) > time_len)
    time[time_len] = '\0';  /* milliseconds are enough */
  return g_strdup_printf ("%s %s %s: %.*s\n", time != NULL ? time : "", level_name (level),
                          domain != NULL ? domain : "-", (int) len, message);
}

static void
write_file_line (GLogLevelFlags level,
                 const char    *domain,
                 const char    *message)
{
  g_autofree char *line = mcr_log_format_line (level, domain, message, TRUE);

  fputs (line, debug_file);
  fflush (debug_file);
}

static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  const char *domain = NULL;
  const char *message = NULL;
  g_autofree char *sized = NULL;
  g_autofree char *clean = NULL;
  GLogField *copy;
  gboolean to_file, to_default;
  McrLogSinkFunc sink;
  gpointer data;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        message = fields[i].length < 0 ? fields[i].value
                                       : (sized = g_strndup (fields[i].value, fields[i].length));
    }

  g_mutex_lock (&lock);
  to_file = debug_file != NULL;
  sink = sink_func;
  data = sink_data;
  g_mutex_unlock (&lock);
  to_default = !g_log_writer_default_would_drop (level, domain);
  if (!to_default && !to_file)
    return G_LOG_WRITER_HANDLED;  /* a debug message nobody shows */

  clean = mcr_log_redact (message != NULL ? message : "");
  copy = g_newa (GLogField, n_fields);
  for (gsize i = 0; i < n_fields; i++)
    {
      copy[i] = fields[i];
      if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        {
          copy[i].value = clean;
          copy[i].length = -1;
        }
    }

  if (to_file)
    {
      g_mutex_lock (&lock);
      if (debug_file != NULL)
        write_file_line (level, domain, clean);
      g_mutex_unlock (&lock);
    }
  if (sink != NULL)
    sink (level, domain, clean, data);
  if (!to_default)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, copy, n_fields, user_data);
}

void
mcr_log_init (void)
{
  static gsize done = 0;

  compile_once ();
  if (g_once_init_enter (&done))
    {
      g_log_set_writer_func (log_writer, NULL, NULL);
      g_once_init_leave (&done, 1);
    }
}

void
mcr_log_set_sink (McrLogSinkFunc func,
                  gpointer       user_data)
{
  g_mutex_lock (&lock);
  sink_func = func;
  sink_data = user_data;
  g_mutex_unlock (&lock);
}

gboolean
mcr_log_open_debug_file (GError **error)
{
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "meshcentral-router", NULL);
  g_autofree char *path = g_build_filename (dir, "debug.log", NULL);
  FILE *file;
  int fd;

  mcr_log_init ();
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot make the folder %s for the debug log: %s"), dir, g_strerror (saved));
      return FALSE;
    }
  /* Never through a symbolic link someone left there; 0600 even if the file
   * was there before with another mode. */
  fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || fchmod (fd, 0600) != 0 || (file = fdopen (fd, "w")) == NULL)
    {
      int saved = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot write the debug log %s: %s"), path, g_strerror (saved));
      return FALSE;
    }

  g_mutex_lock (&lock);
  if (debug_file != NULL)
    fclose (debug_file);
  debug_file = file;
  g_free (debug_file_path);
  debug_file_path = g_steal_pointer (&path);
  g_mutex_unlock (&lock);
  g_log_set_debug_enabled (TRUE);
  g_debug ("meshcentral-router %s: debug log started", PACKAGE_VERSION);
  return TRUE;
}

const char *
mcr_log_get_debug_file_path (void)
{
  return debug_file_path;
}

void
mcr_log_close_debug_file (void)
{
  g_mutex_lock (&lock);
  if (debug_file != NULL)
    fclose (debug_file);
  debug_file = NULL;
  g_clear_pointer (&debug_file_path, g_free);
  g_mutex_unlock (&lock);
}

const char *
mcr_enum_nick (GType type,
               int   value)
{
  GEnumClass *klass = g_type_class_ref (type);
  GEnumValue *found = g_enum_get_value (klass, value);
  /* The nicks are static strings of the generated mcr-enums.c. */
  const char *nick = found != NULL ? found->value_nick : "unknown";

  g_type_class_unref (klass);
  return nick;
}
