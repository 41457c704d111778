//! The products on sale. Prices live here, on the server: the buyer picks a product,
//! never an amount.

use payment_axum::payment_core::Rial;

/// A product in the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    /// The URL slug and the value stored with orders.
    pub slug: &'static str,
    /// The name in Persian.
    pub name_fa: &'static str,
    /// The name in English.
    pub name_en: &'static str,
    /// One line about it, in Persian.
    pub blurb_fa: &'static str,
    /// One line about it, in English.
    pub blurb_en: &'static str,
    /// The price.
    pub price: Rial,
    /// The card colour on the product list.
    pub colour: &'static str,
    /// The letter drawn on the card.
    pub glyph: &'static str,
}

/// Everything on sale, in display order.
pub const PRODUCTS: [Product; 4] = [
    Product {
        slug: "saffron",
        name_fa: "زعفران قائنات",
        name_en: "Qaenat saffron",
        blurb_fa: "یک مثقال زعفران سرگل، بسته‌بندی شیشه‌ای",
        blurb_en: "4.6 g of sargol saffron in a glass jar",
        price: Rial::new(4_850_000),
        colour: "#c2410c",
        glyph: "ز",
    },
    Product {
        slug: "tea",
        name_fa: "چای لاهیجان",
        name_en: "Lahijan black tea",
        blurb_fa: "۴۵۰ گرم چای سیاه بهاره",
        blurb_en: "450 g of spring-picked black tea",
        price: Rial::new(1_290_000),
        colour: "#15803d",
        glyph: "چ",
    },
    Product {
        slug: "notebook",
        name_fa: "دفتر جلد چرمی",
        name_en: "Leather notebook",
        blurb_fa: "دفتر ۱۲۰ برگ با جلد چرم دست‌دوز",
        blurb_en: "120 pages, hand-stitched leather cover",
        price: Rial::new(2_600_000),
        colour: "#7c3aed",
        glyph: "د",
    },
    Product {
        slug: "pistachio",
        name_fa: "پسته اکبری رفسنجان",
        name_en: "Rafsanjan pistachios",
        blurb_fa: "۵۰۰ گرم پستهٔ اکبری، بوداده و نمکی",
        blurb_en: "500 g of roasted, salted Akbari pistachios",
        price: Rial::new(9_750_000),
        colour: "#0e7490",
        glyph: "پ",
    },
];

/// The product with this slug.
pub fn product(slug: &str) -> Option<&'static Product> {
    PRODUCTS.iter().find(|p| p.slug == slug)
}
