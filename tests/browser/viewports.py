"""Screen sizes the journeys check, and the one check made at the narrowest."""

NARROW = {"width": 320, "height": 800}
WIDE = {"width": 1280, "height": 900}


def fits_320(page, screenshot, name: str) -> bool:
    """No sideways scrolling on a 320 px wide phone (and a picture to look at)."""
    page.set_viewport_size(NARROW)
    fits = page.evaluate("document.documentElement.scrollWidth <= 320")
    screenshot(page, name)
    page.set_viewport_size(WIDE)
    return fits
