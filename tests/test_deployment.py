"""The production set-up of docs/deploying.md, run as written, walked in Chromium over HTTPS.

nginx from Debian with deploy/nginx.conf as it is (only the certificate paths and the ports are this
machine's), a self-signed certificate; gunicorn with gunicorn.conf.py; the settings named in
deploy/petition.env and no others (their values are this machine's); Redis for the limits; the mail
worker as its own process, sending over STARTTLS with a login to a local SMTP server; an organiser
who signs in with a code. Nothing here sets a Referer: Chromium behaves as every reader's does.

The database is the suite's kind: a fresh PostgreSQL database in the PostgreSQL run, a SQLite file in
the SQLite run (the guide's single-machine set-up).
"""

import gzip
import http.client
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import time
import urllib.parse
import uuid

import pytest

from petition.privacy.sealing import make_key
from tests.support import (
    CHROMIUM_FLAGS,
    CONFIRM_LINK,
    MANAGE_LINK,
    PROJECT_ROOT,
    RecordingHandler,
    free_port,
    raw_header,
)

pytestmark = [pytest.mark.browser, pytest.mark.deployment]

HOST = "letter.example.org"
DEPLOY = PROJECT_ROOT / "deploy"
BIN = PROJECT_ROOT / ".venv" / "bin"
REDIS = "redis://127.0.0.1:6379/14"  # this test's own Redis database, emptied before it starts
RUN = f"deployment_{os.getpid()}_{uuid.uuid4().hex[:8]}"
MAIL_LOGIN = ("letter@example.org", "a mail password for the test")
ORGANISER = ("organiser@example.org", "a long passphrase for the test")


def production_settings(values):
    """deploy/petition.env with this machine's values: every name the file sets, and only those."""
    names = {}
    for line in (DEPLOY / "petition.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            names[name] = shlex.split(value)[0] if value else ""
    unknown = set(values) - set(names)
    assert not unknown, f"the test may set only what deploy/petition.env names: {unknown}"
    return {**names, **values}


def nginx_site(port_https, port_http, port_app, certificate, key):
    """deploy/nginx.conf as it is, but for this machine's ports and certificate."""
    site = (DEPLOY / "nginx.conf").read_text()
    replacements = [
        ("listen 443 ", f"listen {port_https} ", 2),
        ("listen [::]:443 ", f"listen [::]:{port_https} ", 2),
        ("listen 80;", f"listen {port_http};", 1),
        ("listen [::]:80;", f"listen [::]:{port_http};", 1),
        ("listen 80 ", f"listen {port_http} ", 1),
        ("listen [::]:80 ", f"listen [::]:{port_http} ", 1),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{port_app};", 1),
        (f"/etc/letsencrypt/live/{HOST}/fullchain.pem", str(certificate), 1),
        (f"/etc/letsencrypt/live/{HOST}/privkey.pem", str(key), 1),
    ]
    for old, new, times in replacements:
        assert site.count(old) == times, f"deploy/nginx.conf no longer has {old!r} {times} times"
        site = site.replace(old, new)
    return site


def self_signed_certificate(directory):
    certificate, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={HOST}"),
            *("-addext", f"subjectAltName=DNS:{HOST},DNS:localhost", "-keyout", str(key), "-out", str(certificate)),
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


def start_nginx(directory, site):
    (directory / "site.conf").write_text(site)
    (directory / "nginx.conf").write_text(
        f"""worker_processes 1;
user root;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log {directory}/access.log;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    include {directory}/site.conf;
}}
"""
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    command = [nginx, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-g", "daemon off;"]
    subprocess.run([*command[:-2], "-t"], check=True, capture_output=True)
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class SiteConnection(http.client.HTTPSConnection):
    """HTTPS to nginx on this machine under the site's name (SNI and certificate checked)."""

    def __init__(self, port, context):
        super().__init__(HOST, port, context=context, timeout=30)
        self.port_here = port

    def connect(self):
        raw = socket.create_connection(("127.0.0.1", self.port_here), timeout=30)
        self.sock = self._context.wrap_socket(raw, server_hostname=HOST)


def fetch(site, path, method="GET", headers=None, body=None):
    connection = SiteConnection(site["https_port"], site["tls"])
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def database_for_this_run(tmp):
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp / 'petition.sqlite3'}", lambda: None
    import psycopg

    server = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{RUN}"')

    def drop():
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{RUN}" WITH (FORCE)')

    return f"{server}/{RUN}", drop


def smtp_with_starttls_and_login(certificate, key):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticate(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login.decode(), auth_data.password.decode()) == MAIL_LOGIN)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    handler = RecordingHandler()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname="localhost",
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    return controller, handler


def run(command, env, stdin=None):
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, input=stdin, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import redis

    if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
        pytest.skip("nginx is not installed (apt-get install nginx-light); .ci/run installs it")
    redis.Redis.from_url(REDIS).flushdb()
    tmp = tmp_path_factory.mktemp("deployed")
    certificate, key = self_signed_certificate(tmp)
    controller, mail = smtp_with_starttls_and_login(certificate, key)
    database, drop_database = database_for_this_run(tmp)
    https_port, http_port, app_port = free_port(), free_port(), free_port()
    base = f"https://{HOST}:{https_port}"
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("PETITION_", "TEST_"))},
        "PORT": str(app_port),  # gunicorn.conf.py's documented way to change its port
        **production_settings(
            {
                "SECRET_KEY": "k" * 48,
                "IP_HASH_KEY": "h" * 48,
                "ADDRESS_KEY": make_key(),
                "DATABASE_URL": database,
                "RATELIMIT_STORAGE_URI": REDIS,
                "SITE_URL": base,
                "MAIL_SERVER": "localhost",
                "MAIL_PORT": str(controller.port),
                "MAIL_USERNAME": MAIL_LOGIN[0],
                "MAIL_PASSWORD": MAIL_LOGIN[1],
            }
        ),
        "MAIL_TLS_CA_FILE": str(certificate),  # the mail server's own CA (docs/configuration.md)
    }
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    run([*flask, "db", "upgrade"], env)
    run([*flask, "organisers", "create", ORGANISER[0]], env, stdin=f"{ORGANISER[1]}\n{ORGANISER[1]}\n")
    logs = {name: open(tmp / f"{name}.log", "w") for name in ("gunicorn", "worker")}  # noqa: SIM115
    processes = [
        subprocess.Popen(
            [str(BIN / "gunicorn"), "wsgi:app"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=logs["gunicorn"],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [*flask, "mail", "deliver", "--watch"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=logs["worker"],
            stderr=subprocess.STDOUT,
        ),
        start_nginx(tmp, nginx_site(https_port, http_port, app_port, certificate, key)),
    ]
    tls = ssl.create_default_context(cafile=str(certificate))
    site = {"base": base, "https_port": https_port, "http_port": http_port, "app_port": app_port, "tls": tls}
    site |= {"mail": mail, "env": env, "tmp": tmp}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if fetch(site, "/healthz")[0].status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp / "gunicorn.log").read_text()[-3000:]
            assert all(p.poll() is None for p in processes), (tmp / "gunicorn.log").read_text()[-3000:]
            time.sleep(0.3)
        yield site
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        for log in logs.values():
            log.close()
        controller.stop()
        drop_database()


@pytest.fixture(scope="module")
def chromium(playwright_chromium):
    playwright, executable = playwright_chromium
    # The site's name leads to nginx on this machine, as DNS would lead a reader to the server.
    rules = f"--host-resolver-rules=MAP {HOST} 127.0.0.1"
    launched = playwright.chromium.launch(executable_path=executable, args=[*CHROMIUM_FLAGS, rules])
    yield launched
    launched.close()


@pytest.fixture
def browse(chromium, site):
    contexts = []

    def open_page(width=390, language="en"):
        # The certificate is self-signed: Chromium is told to accept it, as it would a real one.
        context = chromium.new_context(
            viewport={"width": width, "height": 900},
            locale=language,
            extra_http_headers={"Accept-Language": language},
            ignore_https_errors=True,
            accept_downloads=True,
        )
        contexts.append(context)
        page = context.new_page()
        page.elsewhere = []
        page.on(
            "request", lambda r: None if r.url.startswith((site["base"], "data:")) else page.elsewhere.append(r.url)
        )
        page.referers = []
        page.on("request", lambda r: page.referers.append(r.headers.get("referer")) if r.method == "POST" else None)
        return page

    yield open_page
    for context in contexts:
        context.close()


NAMED = "Show my name and affiliation in the public list"
SCHOLAR = ["International scholar", NAMED]
WITH_NEWS = ["International scholar", NAMED, "Email me news about this letter"]


def mail_to(site, address, wanted=lambda message: True, seconds=30):
    """The newest email the worker delivered to `address` that is `wanted`, waiting for it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [m for m in site["mail"].messages if m["To"] == address and wanted(m)]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no email to {address} within {seconds} s")


def link_in(message, pattern):
    return pattern.search(message.text()).group(1)


def sign(page, site, path, fields, ticks, button):
    """Fill in the form as a person does (labels to values, boxes to tick) and send it."""
    page.goto(site["base"] + path)
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    for label in ticks:
        page.get_by_label(label).check()
    time.sleep(3)  # the form refuses answers faster than a person (SIGN_MIN_SECONDS)
    page.get_by_role("button", name=button).click()
    page.wait_for_url("**/sign/check-your-email")


def english(name, affiliation, email):
    return {"Full name": name, "Affiliation": affiliation, "Email address": email}


def confirm(page, site, address, button):
    message = mail_to(site, address)
    page.goto(site["base"] + link_in(message, CONFIRM_LINK))
    page.get_by_role("button", name=button).click()
    page.wait_for_url("**/thanks")
    return message


def test_a_signer_in_each_language_signs_confirms_corrects_withdraws_and_resends_over_https(browse, site):
    ada = browse(width=390)
    sign(ada, site, "/en/sign", english("Ada Lovelace", "University of London", "ada@example.ac.uk"), SCHOLAR, "Sign")
    confirm(ada, site, "ada@example.ac.uk", "Confirm my signature")
    assert "Your signature is confirmed" in ada.content()
    assert ada.url.startswith(site["base"] + "/en/thanks")

    chinese = browse(width=390, language="zh-CN")
    typed = {"姓名": "王小明", "所属机构": "中山大学", "电子邮箱": "wang@example.edu.cn"}
    sign(chinese, site, "/zh/sign", typed, ["中国学者", "在公开名单中显示我的姓名和所属机构"], "联署")
    message = confirm(chinese, site, "wang@example.edu.cn", "确认我的签名")
    assert message["Subject"] == "请确认您在公开信上的签名"

    # Correct, with the private link from the email.
    chinese.goto(site["base"] + link_in(message, MANAGE_LINK))
    chinese.get_by_label("所属机构", exact=True).fill("中山大学社会学系")
    chinese.get_by_role("button", name="保存修改").click()
    assert "中山大学社会学系" in chinese.content()

    # Resend: a signer who lost the email asks for it again and confirms with the new link.
    late = browse(width=1280)
    sign(late, site, "/en/sign", english("Grace Hopper", "Yale University", "grace@example.edu"), SCHOLAR, "Sign")
    mail_to(site, "grace@example.edu")
    late.goto(site["base"] + "/en/resend")
    late.get_by_label("Email address", exact=True).fill("grace@example.edu")
    late.get_by_role("button", name="Send").click()
    late.wait_for_url("**/sign/check-your-email")
    deadline = time.monotonic() + 30
    while len([m for m in site["mail"].messages if m["To"] == "grace@example.edu"]) < 2:
        assert time.monotonic() < deadline, "the second email never came"
        time.sleep(0.2)
    confirm(late, site, "grace@example.edu", "Confirm my signature")

    # Withdraw.
    late.goto(site["base"] + link_in(mail_to(site, "grace@example.edu"), MANAGE_LINK))
    late.get_by_role("link", name="Withdraw my signature").click()
    late.get_by_role("button", name="Yes, withdraw and delete my signature").click()
    late.wait_for_url("**/signature/withdrawn")

    listed = fetch(site, "/en/signatories")[1].decode()
    assert "中山大学社会学系" in listed and "Ada Lovelace" in listed and "Grace Hopper" not in listed
    for page in (ada, chinese, late):
        assert page.elsewhere == []
        assert page.referers and set(page.referers) == {None}, "every form was posted with no Referer"


def log_in_with_a_code(page, site):
    import pyotp

    page.goto(site["base"] + "/organisers/login")
    page.get_by_label("Email address").fill(ORGANISER[0])
    page.get_by_label("Password").fill(ORGANISER[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/organisers/enrol")  # production asks for two-factor sign-in at once
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="I have kept them: continue").click()
    return secret


def test_an_organiser_signs_in_with_a_code_exports_and_publishes_news_that_subscribers_can_leave(browse, site):
    subscriber = browse(width=390)
    sign(
        subscriber,
        site,
        "/en/sign",
        english("News Reader", "Fudan University", "reader@example.edu"),
        WITH_NEWS,
        "Sign",
    )
    confirm(subscriber, site, "reader@example.edu", "Confirm my signature")
    other = browse(width=390)
    typed = english("Link Reader", "Lingnan University", "linkreader@example.edu")
    sign(other, site, "/en/sign", typed, WITH_NEWS, "Sign")
    confirm(other, site, "linkreader@example.edu", "Confirm my signature")

    page = browse(width=1280)
    log_in_with_a_code(page, site)
    page.goto(site["base"] + "/organisers/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download confirmed signatures (CSV)").click()
    exported = download.value.path().read_text(encoding="utf-8-sig")
    assert "News Reader" in exported and "reader@example.edu" in exported

    page.goto(site["base"] + "/organisers/updates")
    page.get_by_label("Title in English").fill("Delivered to the provincial government")
    page.get_by_label("Title in Chinese").fill("已递交省政府")
    page.get_by_label("Text in English (Markdown)").fill("We handed it in.\n\nRead the [background](/en/background).")
    page.get_by_label("Text in Chinese (Markdown)").fill("我们已递交。\n\n请阅读背景文章。")
    page.get_by_label("Email it to the signers who asked for news").check()
    page.get_by_role("button", name="Publish").click()
    assert "We handed it in." in fetch(site, "/en/")[1].decode()

    # One click from the mail provider's button: List-Unsubscribe read from the raw header.
    news = mail_to(site, "reader@example.edu", lambda m: m["List-Unsubscribe-Post"] is not None, seconds=60)
    header = raw_header(news, "List-Unsubscribe")
    url = re.fullmatch(r"<(https://[^>\s]+)>", header).group(1)
    assert url.startswith(site["base"] + "/en/unsubscribe/")
    response, _ = fetch(
        site,
        urllib.parse.urlsplit(url).path,
        "POST",
        {"Content-Type": "application/x-www-form-urlencoded"},
        "List-Unsubscribe=One-Click",
    )
    assert response.status == 200
    assert "(https://" in news.text() and "**" not in news.text()

    # And by the link in the email, in the browser.
    news = mail_to(site, "linkreader@example.edu", lambda m: m["List-Unsubscribe-Post"] is not None, seconds=60)
    link = re.search(r"https://\S+/unsubscribe/\S+", news.text()).group(0)
    other.goto(link)
    other.get_by_role("button", name="Stop the news").click()
    assert "unsubscribe" in other.url
    assert page.elsewhere == [] and set(page.referers) == {None}


def test_the_proxy_compresses_text_and_sets_the_headers_the_site_expects(site):
    sizes = {}
    for path in ("/en/", "/en/signatories", "/static/css/site.css", "/static/js/counts.js", "/en/signatories/growth"):
        plain, body = fetch(site, path)
        packed, packed_body = fetch(site, path, headers={"Accept-Encoding": "gzip"})
        assert plain.status == 200, path
        assert packed.getheader("Content-Encoding") == "gzip", path
        unpacked = gzip.decompress(packed_body)
        assert unpacked == body or not path.startswith("/static/"), path
        sizes[path] = (len(body), len(packed_body))
    assert sizes["/en/signatories"][1] < sizes["/en/signatories"][0] / 3
    print("page weights behind nginx (bytes, plain -> gzip):", sizes)

    response, _ = fetch(site, "/en/")
    assert "max-age=" in response.getheader("Strict-Transport-Security")
    assert response.getheader("Referrer-Policy") == "no-referrer"
    assert "nginx/" not in (response.getheader("Server") or "")
    organisers, _ = fetch(site, "/organisers/login", headers={"Accept-Encoding": "gzip"})
    assert organisers.getheader("Content-Encoding") is None, "pages with addresses are never compressed"

    # Plain HTTP only leads to HTTPS; another name gets nothing.
    connection = http.client.HTTPConnection("127.0.0.1", site["http_port"], timeout=10)
    connection.request("GET", "/en/sign", headers={"Host": HOST})
    moved = connection.getresponse()
    connection.close()
    assert moved.status == 301 and moved.getheader("Location") == f"https://{HOST}/en/sign"
    with socket.create_connection(("127.0.0.1", site["https_port"]), timeout=10) as raw, pytest.raises(ssl.SSLError):
        site["tls"].wrap_socket(raw, server_hostname="elsewhere.example.net")


def test_no_client_can_forge_its_address(site):
    """nginx overwrites X-Forwarded-For, and gunicorn is not reachable except from this machine."""
    statuses = []
    for i in range(40):
        response, _ = fetch(site, "/api/signatories", headers={"X-Forwarded-For": f"203.0.113.{i}"})
        statuses.append(response.status)
    assert 429 in statuses, "every request counted against the one real client address"

    outside = [address for address in local_addresses() if not address.startswith("127.")]
    for address in outside:
        with pytest.raises(OSError):
            socket.create_connection((address, site["app_port"]), timeout=3).close()


def local_addresses():
    """This machine's own IPv4 addresses on its network interfaces."""
    try:
        return sorted(set(socket.gethostbyname_ex(socket.gethostname())[2]))
    except OSError:
        return []


@pytest.mark.parametrize("name, fence", [("nginx.conf", "nginx"), ("petition.env", "sh")])
def test_the_readme_leads_to_the_deployment_files_exactly_as_this_test_runs_them(name, fence):
    """README.md links to docs/deploying.md, whose copies of the files are these files, to the letter."""
    assert "(docs/deploying.md)" in (PROJECT_ROOT / "README.md").read_text(), "README.md no longer links the guide"
    guide = (PROJECT_ROOT / "docs" / "deploying.md").read_text()
    text = (DEPLOY / name).read_text().rstrip("\n")
    assert f"```{fence}\n{text}\n```" in guide, f"docs/deploying.md's copy of deploy/{name} differs from the file"
