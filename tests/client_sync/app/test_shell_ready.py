"""The shell's first proof: past the secret URL, the unlock page, then Beranda."""


def test_unlocking_shows_beranda_with_who_is_logged_in(field):
    assert field.get("/").headers["Location"].startswith("/buka")
    assert field.unlock().status_code == 303
    page = field.get("/").get_data(as_text=True)
    assert "sari · wilayah 31.71.01" in page and "<h1>Beranda</h1>" in page
