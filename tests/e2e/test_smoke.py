from playwright.sync_api import Page, expect


def test_card_payment_in_japanese(live_server, page: Page, browser) -> None:
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    session = live_server.create_session()
    page.goto(session["url"])
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_label("Expiry date (MM/YY)").fill("12/34")
    page.get_by_label("Security code").fill("123")
    page.get_by_label("Name on card").fill("Yamada Hanako")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/demo/success**")
    assert live_server.get_session(session["id"])["payment_status"] == "paid"
