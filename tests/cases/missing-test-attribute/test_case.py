class TestCheckout:
    def setup_method(self):
        self.user = "ci"

    def test_cart_total(self):
        assert self.cart.total == 0


class Order:
    customer = None


def test_order_customer():
    assert Order().customer.name == "ci"
