"""In Chromium, in Arabic: sign-up with the code sent to the registry's mobile,
sign-in, sign-out, and a forgotten password, as a resident would walk them."""
from tests.conftest import need_playwright
from tests.factories import code_in, last_sms, make_id_number, registry_entry

playwright_api = need_playwright()
expect = playwright_api.expect

NUMBER = make_id_number(1, 77700001)
MOBILE = "+966551110034"
PASSWORD = "كلمة سر طويلة للتجربة"
NEW_PASSWORD = "another long phrase 2026"


def shot(page, tmp_path, name):
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def test_sign_up_sign_in_sign_out_and_reset_in_arabic(browser, live, tmp_path):
    registry_entry("نورة فهد", NUMBER, MOBILE)
    page = browser.new_context(locale="ar-SA", viewport={"width": 360, "height": 740}).new_page()

    page.goto(f"{live}/auth/register")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.fill("#id_number", NUMBER)
    page.get_by_role("button", name="أرسل لي رمزًا").click()
    page.wait_for_url(f"{live}/auth/register/code")
    expect(page.locator("main")).to_contain_text("+966 5• ••• ••34")
    shot(page, tmp_path, "signup-code-360")
    page.fill("#code", "000000")
    page.fill("#username", "nora")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.get_by_role("button", name="إنشاء الحساب").click()
    expect(page.locator(".error-summary")).to_contain_text("الرمز غير صحيح")
    page.fill("#code", code_in(last_sms(MOBILE)))
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.get_by_role("button", name="إنشاء الحساب").click()
    page.wait_for_url(f"{live}/requests/")

    page.get_by_role("button", name="تسجيل الخروج").click()
    page.wait_for_url(f"{live}/auth/login")
    page.goto(f"{live}/requests/")
    page.wait_for_url(f"{live}/auth/login?next=**")

    page.fill("#username", "nora")
    page.fill("#password", PASSWORD)
    page.locator("main button").click()
    page.wait_for_url(f"{live}/requests/")
    page.get_by_role("button", name="تسجيل الخروج").click()
    page.wait_for_url(f"{live}/auth/login")

    page.get_by_role("link", name="نسيت كلمة المرور؟").click()
    page.fill("#id_number", NUMBER)
    page.get_by_role("button", name="أرسل لي رمزًا").click()
    page.wait_for_url(f"{live}/auth/reset/code")
    page.fill("#code", code_in(last_sms(MOBILE)))
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    page.get_by_role("button", name="احفظ كلمة المرور الجديدة").click()
    expect(page.locator("h1")).to_have_text("تغيّرت كلمة المرور")
    assert "تغيّرت كلمة مرور حسابك" in last_sms(MOBILE)

    page.goto(f"{live}/auth/login")
    page.fill("#username", "nora")
    page.fill("#password", PASSWORD)
    page.locator("main button").click()
    expect(page.locator(".errors")).to_contain_text("تعذّر تسجيل الدخول")
    page.fill("#password", NEW_PASSWORD)
    page.locator("main button").click()
    page.wait_for_url(f"{live}/requests/")
    shot(page, tmp_path, "signed-in-360")
