#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes the .mcrouter fixtures. win() concatenates strings exactly the way
# the Windows router's MainForm.saveMappingsToolStripMenuItem_Click does
# (CRLF, its key order, no escaping, no final newline), so the files are
# what it writes. Run from this folder; the files are checked in.
H = '6C2D6D9096C21F5633D46731950B2FFDE4086114BFB750606A9FA8C08098665BC595CD892C4A439A4B7C68D712A6F0EB'
MESH = 'mesh//Zx3b$Lr@kOq9WgZf1Yc2s8HmVnT0pRdE4uJiAaBbCcDdEeFfGgHhIiJjKk'
N1 = 'node//qW3rT5yU7iO9pA1sD3fG5hJ7kL9zX1cV3bN5mQ7wE9rT1yU3iO5pA7sD9fG1h'
N2 = 'node//Ab$cD@eF0gH1iJ2kL3mN4oP5qR6sT7uV8wX9yZ0aB1cD2eF3gH4iJ5kL6mN7o'
N3 = 'node//Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn7Mm6Ll5Kk4Jj3Ii2Hh1Gg0Ff'


def win(host, user, cert, maps):
    t = ('{\r\n  "hostname": "' + host + '",\r\n  "username": "' + user +
         '",\r\n  "certhash": "' + cert + '",\r\n  "mappings":[\r\n')
    for i, m in enumerate(maps):
        t += '    {\r\n' if i == 0 else ',\r\n    {\r\n'
        t += '      "nodeName": "' + m['nodeName'] + '",\r\n'
        if m.get('name'):
            t += '      "name": "' + m['name'] + '",\r\n'
        t += '      "meshId": "' + MESH + '",\r\n'
        t += '      "nodeId": "' + m['nodeId'] + '",\r\n'
        t += '      "appId": ' + str(m['appId']) + ',\r\n'
        if m.get('appIdStr') is not None:
            t += '      "appIdStr": "' + m['appIdStr'] + '",\r\n'
        t += '      "protocol": ' + str(m['protocol']) + ',\r\n'
        t += '      "localPort": ' + str(m['localPort']) + ',\r\n'
        if m.get('remoteIP') is not None:
            t += '      "remoteIP": "' + m['remoteIP'] + '",\r\n'
        t += '      "remotePort": ' + str(m['remotePort']) + '\r\n'
        t += '    }'
    t += '\r\n  ]\r\n}' if maps else '  ]\r\n}'
    return t


def mp(node_name, node_id, app_id, protocol, local_port, remote_port, **kw):
    return dict(nodeName=node_name, nodeId=node_id, appId=app_id, protocol=protocol,
                localPort=local_port, remotePort=remote_port, **kw)


files = {}
files['windows-basic'] = win('meshcentral.example.com', 'alice', H, [
    mp('OFFICE-PC', N1, 3, 1, 0, 3389),
    mp('web01', N2, 1, 1, 8080, 80, name='Intranet'),
])
files['windows-empty'] = win('meshcentral.example.com', 'alice', '', [])
files['windows-key-port'] = win('mesh.example.com:4443?key=Zk8sQ2', 'bob', H.lower(), [
    mp('nas', N3, 0, 1, 5901, 5900, appIdStr='VNC'),
    mp('gateway', N1, 1, 1, 0, 80, name='Printer web page', remoteIP='192.168.1.50'),
    mp('gateway', N1, 0, 2, 5353, 53, remoteIP='10.0.0.53'),
])
# Saved after an mcrouter:// launch: appIdStr holds the link's appid.
files['windows-after-link'] = win('192.0.2.10:8443/sales', 'carol@example.com', '', [
    mp('Büro-Rechner', N1, 3, 1, 0, 3389, appIdStr='3'),
])
files['relay'] = win('meshcentral.example.com', 'alice', H, [
    mp('jump', N2, 4, 1, 2222, 22, name='Switch SSH', remoteIP='192.168.10.1'),
    mp('jump', N2, 2, 1, 0, 443, remoteIP='fe80::1'),
    mp('jump', N2, 5, 1, 0, 22, remoteIP='fileserver.lan'),
])
files['udp'] = win('meshcentral.example.com', 'alice', H, [mp('dns-box', N3, 0, 2, 10053, 53)])
# By hand: other key order, LF line ends, a UTF-8 BOM, every optional field.
hash_colons = ':'.join(H[i:i + 2] for i in range(0, 96, 2)).lower()
files['hand-written'] = '\ufeff' + '''{
  "mappings": [
    { "remotePort": 22, "protocol": 1, "appId": 4, "nodeId": "%s",
      "localPort": 2200, "autoExit": true, "launch": 1, "name": "Build server",
      "appIdStr": null, "remoteIP": "", "meshId": "", "nodeName": "" },
    { "nodeId": "%s", "protocol": 1, "remotePort": 3389, "appId": 3, "launch": 0, "autoExit": false }
  ],
  "password": "s3cret \\"quoted\\" \\\\ pass",
  "certhash": "%s",
  "username": "dave",
  "unknownField": { "kept": [1, 2, {"x": null}] },
  "hostname": "[2001:db8::10]:443"
}
''' % (N1, N2, hash_colons)
files['unicode'] = (
    '{\r\n  "hostname": "meshcentral.example.com",\r\n  "username": "ユーザー",\r\n'
    '  "certhash": "",\r\n  "mappings":[\r\n    {\r\n      "nodeName": "会議室のPC 🖥",\r\n'
    '      "name": "Ré\\"union\\\\ Été",\r\n      "meshId": "%s",\r\n      "nodeId": "%s",\r\n'
    '      "appId": 0,\r\n      "appIdStr": "Remmina \\u00e9",\r\n      "protocol": 1,\r\n'
    '      "localPort": 0,\r\n      "remotePort": 5900\r\n    }\r\n  ]\r\n}') % (MESH, N1)
files['launch-command'] = (
    '{\r\n  "hostname": "meshcentral.example.com",\r\n  "username": "alice",\r\n  "mappings":[\r\n'
    '    {\r\n      "nodeId": "%s",\r\n      "appId": 0,\r\n      "protocol": 1,\r\n'
    '      "localPort": 0,\r\n      "remotePort": 22,\r\n'
    '      "launch": "cmd.exe /c calc.exe {port}"\r\n    }\r\n  ]\r\n}') % N1
for name, text in files.items():
    open(name + '.mcrouter', 'wb').write(text.encode('utf-8'))
# Notepad's "Unicode": UTF-16LE with a byte order mark.
open('utf16.mcrouter', 'wb').write(b'\xff\xfe' + files['windows-basic'].encode('utf-16-le'))

base = files['windows-basic']


def edit(old, new, src=base):
    assert old in src, old
    return src.replace(old, new, 1)


b = {}
b['not-json'] = 'This is not a MeshCentral Router file.\r\n'
b['empty'] = ''
b['truncated'] = base[:len(base) // 2]
b['windows-unescaped-quote'] = win('meshcentral.example.com', 'alice', H,
                                   [mp('Bob\'s "main" PC', N1, 3, 1, 0, 3389)])
b['windows-unescaped-backslash'] = win('meshcentral.example.com', 'CORP\\alice', H, [])
b['top-level-array'] = '[\r\n  {"hostname": "meshcentral.example.com", "username": "alice"}\r\n]'
b['no-hostname'] = edit('  "hostname": "meshcentral.example.com",\r\n', '')
b['no-username'] = edit('  "username": "alice",\r\n', '')
b['hostname-number'] = edit('"hostname": "meshcentral.example.com"', '"hostname": 443')
b['hostname-empty'] = edit('"hostname": "meshcentral.example.com"', '"hostname": ""')
b['hostname-space'] = edit('"hostname": "meshcentral.example.com"',
                           '"hostname": "mesh central.example.com"')
b['username-null'] = edit('"username": "alice"', '"username": null')
b['certhash-bad'] = edit('"certhash": "%s"' % H, '"certhash": "not-a-hash"')
b['mappings-object'] = '{"hostname": "h.example.com", "username": "u", "mappings": {"0": {}}}'
b['mapping-not-object'] = '{"hostname": "h.example.com", "username": "u", "mappings": [ "node//abc" ]}'
b['localport-range'] = edit('"localPort": 8080', '"localPort": 65536')
b['localport-string'] = edit('"localPort": 8080', '"localPort": "8080"')
b['localport-negative'] = edit('"localPort": 0', '"localPort": -1')
b['localport-float'] = edit('"localPort": 8080', '"localPort": 8080.5')
b['localport-wraps'] = edit('"localPort": 0', '"localPort": -18446744073709548227')
b['appid-string'] = edit('"appId": 3', '"appId": "3"')
b['protocol-string'] = edit('"protocol": 1', '"protocol": "TCP"')
b['remoteport-zero'] = edit('"remotePort": 3389', '"remotePort": 0')
b['remoteport-missing'] = edit('"localPort": 8080,\r\n      "remotePort": 80\r\n',
                               '"localPort": 8080\r\n')
b['protocol-unknown'] = edit('"protocol": 1', '"protocol": 3')
b['protocol-missing'] = edit('      "protocol": 1,\r\n', '')
b['appid-desktop'] = edit('"appId": 3', '"appId": 6')
b['appid-files'] = edit('"appId": 1', '"appId": 7')
b['appid-unknown'] = edit('"appId": 3', '"appId": 99')
# Without nodeId, a mapping is matched by nodeName; without both, refused.
b['nodeid-missing'] = edit('      "nodeName": "OFFICE-PC",\r\n',  '',
                           edit('      "nodeId": "%s",\r\n' % N1, ''))
b['nodeid-mesh'] = edit('"nodeId": "%s"' % N1, '"nodeId": "%s"' % MESH)
b['remoteip-bad'] = edit('"localPort": 8080,', '"localPort": 8080,\r\n      "remoteIP": "not an address!",')
b['udp-with-app'] = edit('"protocol": 1,\r\n      "localPort": 0', '"protocol": 2,\r\n      "localPort": 0')
b['autoexit-string'] = edit('"remotePort": 3389', '"remotePort": 3389,\r\n      "autoExit": "yes"')
b['launch-object'] = edit('"remotePort": 3389',
                          '"remotePort": 3389,\r\n      "launch": {"command": "calc.exe"}')
b['trailing-comma'] = edit('"remotePort": 80\r\n', '"remotePort": 80,\r\n')
b['trailing-garbage'] = base + '\r\n{"hostname": "evil.example.com"}'
b['comment'] = '/* saved by hand */\r\n' + base
b['single-quotes'] = base.replace('"alice"', "'alice'")
# json-glib 1.6 would swallow the closing quote after a lone surrogate.
b['lone-surrogate'] = edit('"nodeName": "web01"', '"nodeName": "web\\ud800", "name": "[[[["')
# json-glib 1.6 overflows its stack on this.
b['deep-nesting'] = ('{"hostname": "h.example.com", "username": "u", "extra": ' +
                     '[' * 100000 + ']' * 100000 + '}')
b['mapping-3-bad'] = win('meshcentral.example.com', 'alice', H, [
    mp('a', N1, 3, 1, 0, 3389), mp('b', N2, 3, 1, 13389, 3389), mp('c', N3, 3, 1, 99999, 3389)])
for name, text in b.items():
    open('broken/' + name + '.mcrouter', 'wb').write(text.encode('utf-8'))
open('broken/nul-byte.mcrouter', 'wb').write(base.encode().replace(b'OFFICE-PC', b'OFFICE\x00PC'))
open('broken/latin1.mcrouter', 'wb').write(base.encode().replace(b'OFFICE-PC', b'B\xfcro-PC'))
open('broken/utf16-odd.mcrouter', 'wb').write(b'\xff\xfe' + base.encode('utf-16-le') + b'\x00')
