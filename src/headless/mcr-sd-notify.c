/* mcr-sd-notify.c: tells systemd how a Type=notify service is doing
 *
 * The sd_notify() protocol without libsystemd: one AF_UNIX datagram of
 * "KEY=VALUE" lines to $NOTIFY_SOCKET. systemd checks the sender's
 * credentials itself (NotifyAccess=), so nothing more is sent.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-sd-notify"

#include "config.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>

#include "mcr-sd-notify.h"

static GSocketAddress *
notify_address (const char *name)
{
  /* "@name": Linux's abstract namespace, the '@' standing for the leading
   * NUL byte. */
  if (name[0] == '@')
    return g_unix_socket_address_new_with_type (name + 1, -1, G_UNIX_SOCKET_ADDRESS_ABSTRACT);
  if (name[0] == '/')
    return g_unix_socket_address_new (name);
  return NULL;
}

gboolean
mcr_sd_notify (const char *state)
{
  const char *name = g_getenv ("NOTIFY_SOCKET");
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = strlen (state);
  gssize sent = -1;

  if (name == NULL || name[0] == '\0')
    return FALSE;
  address = notify_address (name);
  if (address == NULL)
    {
      g_debug ("NOTIFY_SOCKET=%s is neither a path nor an abstract socket", name);
      return FALSE;
    }
  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_DEFAULT,
                         &error);
  if (socket != NULL)
    sent = g_socket_send_to (socket, address, state, len, NULL, &error);
  if (socket == NULL || sent < 0)
    {
      g_debug ("could not tell systemd “%s”: %s", state, error->message);
      return FALSE;
    }
  g_debug ("told systemd: %s", state);
  return (gsize) sent == len;
}

gboolean
mcr_sd_notify_status (const char *format,
                      ...)
{
  g_autofree char *text = NULL;
  g_autofree char *state = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  /* One line: a newline would start another KEY=VALUE. */
  g_strdelimit (text, "\n", ' ');
  state = g_strconcat ("STATUS=", text, NULL);
  return mcr_sd_notify (state);
}
